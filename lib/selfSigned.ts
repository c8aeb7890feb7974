/**
 * The openssl command that makes a self-signed certificate and its key: the dev sites'
 * certificates, the default server's and the ACME placeholders. Pure.
 */
import { cmd } from "./shell.ts";

export interface SelfSignedOptions {
  /** Subject, e.g. `CN=shop.example`. */
  readonly subject: string;
  /** Days it is valid. */
  readonly days: number;
  /** subjectAltName value (`DNS:shop.example`, `IP:10.0.0.1`). @default none */
  readonly san?: string;
  readonly certificatePath: string;
  readonly keyPath: string;
}

/** One `openssl req` line (RSA 2048, no passphrase); the key's mode is the caller's to set. */
export function selfSignedCertCommand(o: SelfSignedOptions): string {
  return [
    `openssl req -x509 -newkey rsa:2048 -nodes -days ${o.days} -subj ${cmd(`/${o.subject}`)}`,
    ...(o.san ? [`-addext ${cmd(`subjectAltName=${o.san}`)}`] : []),
    `-keyout ${cmd(o.keyPath)} -out ${cmd(o.certificatePath)} 2>/dev/null`,
  ].join(" ");
}
