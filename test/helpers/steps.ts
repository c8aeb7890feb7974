/**
 * What an engine operation changes, as `op name` lines, from its events. Provider
 * resources are left out: Pulumi hands the stack config to the dynamic-provider plugin,
 * so any config change also shows an (inert) update of `pulumi:providers:pulumi-nodejs`.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import type { TestStack } from "./pulumi.ts";

export function stepRecorder() {
  const steps: string[] = [];
  return {
    steps,
    onEvent(e: EngineEvent) {
      const m = e.resourcePreEvent?.metadata;
      // A refresh reads; it is not a change (preview --refresh reports one per resource).
      if (m && m.op !== "same" && m.op !== "refresh" && m.type !== "pulumi:pulumi:Stack" && !m.type.startsWith("pulumi:providers:")) {
        steps.push(`${m.op} ${m.urn.split("::").pop()}`);
      }
    },
  };
}

/** Previews and returns the sorted resources that would change (empty: nothing to do). */
export async function changes(t: TestStack, log: (s: string) => void): Promise<string[]> {
  const rec = stepRecorder();
  await t.stack.preview({ onEvent: rec.onEvent, onOutput: log });
  return rec.steps.sort();
}
