/**
 * A certificate and its key on a host as a state a refresh reads (RemoteScript
 * `read`/`state`): pure builders. A file deleted by hand, or a self-signed certificate
 * swapped for another subject, previews as the line that changed.
 */
import { cmd, script } from "./shell.ts";

export interface CertFiles {
  readonly certificatePath: string;
  readonly keyPath: string;
}

/**
 * The files as wanted: both present, the certificate with `subject` when given (a
 * self-signed one, which we make); without it, presence only (a placeholder that a real
 * certificate replaces later is no drift).
 */
export function certFilesState(p: CertFiles, subject?: string): string {
  return [
    `certificate ${p.certificatePath} ${subject === undefined ? "present" : `subject=${subject}`}`,
    `key ${p.keyPath} present`,
  ].join("\n");
}

/** Prints each file as present (non-empty) or absent, the certificate's subject too when `withSubject`. */
export function certFilesRead(p: CertFiles, withSubject: boolean): string {
  const crt = cmd(p.certificatePath);
  const present = withSubject
    // RFC 2253 prints `CN=shop.example`, as the subject is given to openssl req.
    ? `printf '%s subject=%s\\n' ${cmd(`certificate ${p.certificatePath}`)} "$(openssl x509 -in ${crt} -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//' || echo unreadable)"`
    : `echo ${cmd(`certificate ${p.certificatePath} present`)}`;
  return script(
    `if [ -s ${crt} ]; then ${present}; else echo ${cmd(`certificate ${p.certificatePath} absent`)}; fi`,
    `if [ -s ${cmd(p.keyPath)} ]; then echo ${cmd(`key ${p.keyPath} present`)}; else echo ${cmd(`key ${p.keyPath} absent`)}; fi`,
  );
}
