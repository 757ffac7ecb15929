import { object, quantity, Reader } from "./fields";

export type Environment = "dev" | "prod";

/** What area readers may derive their defaults from. */
export interface SettingsContext {
    /** `bss:environment`: dev relaxes placement and auth for a one-node kind cluster. */
    environment: Environment;
    /** `bss:namespace`: where everything is deployed. */
    namespace: string;
    /** The Pulumi stack name. */
    stack: string;
}

export interface ComputeResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface ResourcesInput {
    requests: Partial<{ cpu: string; memory: string }>;
    limits: Partial<{ cpu: string; memory: string }>;
}

const cpuMemory = object<{ cpu: string; memory: string }>({ cpu: quantity, memory: quantity });

export const resourcesReader: Reader<Partial<ResourcesInput>> = object<ResourcesInput>({
    requests: cpuMemory,
    limits: cpuMemory,
});

/** Stack-supplied requests/limits over a component's defaults, field by field. */
export function mergeResources(defaults: ComputeResources, given: Partial<ResourcesInput> | undefined): ComputeResources {
    return {
        requests: { ...defaults.requests, ...given?.requests },
        limits: { ...defaults.limits, ...given?.limits },
    };
}

/** A fixed nodePort some component claims, for the cross-area uniqueness rule. */
export interface NodePortClaim {
    key: string;
    port: number;
}

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

export type Placement = "preferred" | "required";
