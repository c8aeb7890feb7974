/**
 * The process-listing sampler the end-to-end tests use (test/helpers/argvSampler.ts),
 * run on this machine: it sees a command line that carries a string, counts it as a
 * secret or a control, and holds neither on its own command line.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseSample, sampleLocalArgv } from "../helpers/argvSampler.ts";
import { exitOf } from "../helpers/wait.ts";

describe("the argv sampler", () => {
  it("counts the sweeps that saw a secret or a control", async () => {
    const secret = `secret-${process.pid}-argv`;
    const control = `control-${process.pid}-argv`;
    const sampler = await sampleLocalArgv([secret], [control]);
    let seen: { secret: number; control: number; sweeps: number };
    try {
      // $0 of a short bash: a command line holding the string, for half a second each
      // (two commands, so bash does not exec sleep in its place).
      for (const word of [control, secret]) {
        const p = spawn("bash", ["-c", "sleep 0.5; :", word], { stdio: "ignore" });
        await exitOf(p, word, 10_000);
      }
    } finally {
      seen = await sampler.stop();
    }
    expect(seen.control).toBeGreaterThan(0);
    expect(seen.secret).toBeGreaterThan(0);
    expect(seen.sweeps).toBeGreaterThan(seen.secret);
  }, 30_000);

  it("sees nothing it was not given (its own command line holds neither string)", async () => {
    const sampler = await sampleLocalArgv([`absent-${process.pid}-a`], [`absent-${process.pid}-b`]);
    const seen = await sampler.stop();
    expect({ secret: seen.secret, control: seen.control }).toEqual({ secret: 0, control: 0 });
    expect(seen.sweeps).toBeGreaterThan(0);
  });

  it("reads its files", () => {
    expect(parseSample("control\nsecret\ncontrol\n", "12\n")).toEqual({ secret: 1, control: 2, sweeps: 12 });
    expect(parseSample("", "")).toEqual({ secret: 0, control: 0, sweeps: 0 });
  });
});
