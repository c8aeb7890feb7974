/**
 * Operations of the RandomSecret provider: a generated credential, made once with the
 * operating system's CSPRNG and kept in state (encrypted) until its shape changes.
 */
import { randomInt } from "node:crypto";

export interface SecretState {
  readonly length: number;
  readonly alphabet?: string;
  readonly value?: string;
}

/** Letters and digits only: safe in URLs, env files, SQL and shell without escaping. */
export const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function generate(length: number, alphabet: string = ALNUM): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export async function check(_olds: unknown, news: SecretState) {
  const failures = [];
  if (!Number.isInteger(news.length) || news.length < 16 || news.length > 256) {
    failures.push({ property: "length", reason: `must be a whole number from 16 to 256, got ${news.length}` });
  }
  return { inputs: news, failures };
}

export async function create(inputs: SecretState) {
  const value = generate(inputs.length, inputs.alphabet || ALNUM);
  return { id: `secret-${generate(8)}`, outs: { ...inputs, value } };
}

export async function diff(_id: string, olds: SecretState, news: SecretState) {
  const replaces = [];
  if (olds.length !== news.length) replaces.push("length");
  if ((olds.alphabet || ALNUM) !== (news.alphabet || ALNUM)) replaces.push("alphabet");
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
}

export async function update(_id: string, olds: SecretState, news: SecretState) {
  return { outs: { ...news, value: olds.value } };
}
