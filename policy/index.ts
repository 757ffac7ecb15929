/**
 * The `bss` CrossGuard policy pack: `pulumi preview --policy-pack policy` (or `pulumi up --policy-pack policy`).
 * The rules live in ./rules.ts; this file only builds their context from the stack's settings and serves them.
 */
import * as pulumi from "@pulumi/pulumi";
import { PolicyPack } from "@pulumi/policy";
import { loadSettings } from "../settings";
import { bssPolicies, policyContext } from "./rules";

// The engine hands the pack the stack's config (secrets decrypted) in PULUMI_CONFIG, but not which keys were
// secret; the program has already refused plain values for secret keys, so every key is treated as secret here.
const config = pulumi.runtime.allConfig();
const settings = loadSettings(config, pulumi.getStack(), new Set(Object.keys(config)));

new PolicyPack("bss", {
    description: "BSS stack rules: pinned images, restricted pods, resources, secrets kept secret, exposure only as configured, no chart CRDs.",
    enforcementLevel: "mandatory",
    policies: bssPolicies(policyContext(settings)),
});
