import * as pulumi from "@pulumi/pulumi";
import { SettingsError } from "../settings";

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
