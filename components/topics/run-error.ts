import * as pulumi from "@pulumi/pulumi";

/**
 * A RunError without a stack. Pulumi's Node runtime prints a RunError's message once and no stack, but still
 * formats the error through `util.inspect` for its trace event (`@pulumi/pulumi/cmd/run/run.js`); without a
 * stack that formatting is the message itself (`cmd/run/error.js`), so a refusal never pays for inspecting a
 * stack or whatever else hangs off the error.
 */
export function messageOnlyRunError(message: string): pulumi.RunError {
    const error = new pulumi.RunError(message);
    Object.defineProperty(error, "stack", { value: undefined, writable: true, configurable: true });
    return error;
}
