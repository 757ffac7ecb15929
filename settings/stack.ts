import * as pulumi from "@pulumi/pulumi";
import { loadSettings, Settings } from "./index";

/** Exported by @pulumi/pulumi's runtime module but missing from its type declarations. */
const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

/** The settings of the stack being deployed, read from Pulumi's config. */
export function readStackSettings(): Settings {
    const raw = pulumi.runtime.allConfig();
    const secretKeys = new Set(Object.keys(raw).filter((key) => runtime.isConfigSecret(key)));
    return loadSettings(raw, pulumi.getStack(), secretKeys);
}
