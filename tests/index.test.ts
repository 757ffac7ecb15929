import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "../settings";
import { stackFile } from "./helpers/render";
import { ProgramRun, runProgram } from "./topics/program";

/**
 * The program itself under Pulumi's mocks: bad input must stop it before the first resource is registered,
 * so a failed `pulumi up` never leaves half a stack behind.
 */
const registered: string[] = [];

beforeAll(async () => {
    await pulumi.runtime.setMocks({
        newResource(args) {
            registered.push(`${args.type}::${args.name}`);
            return { id: `${args.name}-id`, state: args.inputs };
        },
        call(args) {
            return args.inputs;
        },
    }, "bss", "broken", false);
    pulumi.runtime.setAllConfig({
        "bss:kafka": JSON.stringify({ brokers: 3, externalHost: "kafka.example.com" }),
        "bss:redis": JSON.stringify({ masters: 2 }),
        "bss:namespace": "BSS",
    });
});

it("creates nothing when the settings are invalid", async () => {
    await expect(import("../index")).rejects.toThrow(SettingsError);
    await (pulumi.runtime as typeof pulumi.runtime & { waitForRPCs(): Promise<void> }).waitForRPCs();
    expect(registered).toEqual([]);
});

/** Undefined anywhere in an export: the engine drops it with "Undefined value (...) will not show as a stack output". */
function undefinedPaths(value: unknown, at: string): string[] {
    if (value === undefined) {
        return [at];
    }
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([key, inner]) => undefinedPaths(inner, `${at}.${key}`));
    }
    return [];
}

describe.each(["dev", "prod"])("the %s stack's outputs", (stack) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(stack, stackFile(stack));
    }, 150_000);

    it("all resolve to defined values (null where a login is off)", () => {
        expect(run.failures).toEqual([]);
        expect(Object.keys(run.exports).length).toBeGreaterThan(10);
        expect(Object.entries(run.exports).flatMap(([name, value]) => undefinedPaths(value, name))).toEqual([]);
    });
});
