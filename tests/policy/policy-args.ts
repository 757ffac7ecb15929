/**
 * Hand-made CrossGuard arguments: runs the pack's policies in-process without constructing a PolicyPack
 * (a second one in one process exits it), the way the engine calls them: each resource policy once per
 * resource, each stack policy once over all resources.
 */
import type { Policies, PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { StackResource } from "../../policy/rules";

type Obj = Record<string, any>;

const OPTIONS = { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };

function notApplicable(reason?: string): never {
    throw new Error(`notApplicable: ${reason}`);
}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::bss::${type}::${name}`;
}

export function resourceArgs(type: string, name: string, props: Obj): ResourceValidationArgs {
    return {
        type,
        name,
        props,
        urn: urnOf(type, name),
        opts: OPTIONS,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
    };
}

export function stackArgs(resources: StackResource[]): StackValidationArgs {
    return {
        resources: resources.map((r): PolicyResource => ({
            ...r,
            urn: urnOf(r.type, r.name),
            opts: OPTIONS,
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        })),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
    };
}

export function policyNamed(policies: Policies, name: string): ResourceValidationPolicy & Partial<StackValidationPolicy> {
    const found = policies.find((p) => p.name === name);
    if (!found) {
        throw new Error(`no policy "${name}" (have: ${policies.map((p) => p.name).join(", ")})`);
    }
    return found as ResourceValidationPolicy & Partial<StackValidationPolicy>;
}

/** Violations of one resource policy for one resource. */
export async function violations(policies: Policies, name: string, type: string, props: Obj): Promise<string[]> {
    const policy = policyNamed(policies, name);
    const found: string[] = [];
    const validations = [policy.validateResource ?? []].flat();
    for (const validate of validations) {
        await validate(resourceArgs(type, `${name}-subject`, props), (message) => found.push(message));
    }
    return found;
}

/** Violations of one stack policy, with the URN each was reported against. */
export async function stackViolations(policies: Policies, name: string, resources: StackResource[]): Promise<{ message: string; urn?: string }[]> {
    const policy = policyNamed(policies, name);
    const found: { message: string; urn?: string }[] = [];
    await policy.validateStack!(stackArgs(resources), (message, urn) => found.push({ message, urn }));
    return found;
}

/** Every policy over every resource: "policy: type name: message" per violation. */
export async function runPolicies(policies: Policies, resources: StackResource[]): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        if ("validateStack" in policy) {
            await policy.validateStack(stackArgs(resources), (message, urn) => found.push(`${policy.name}: ${urn}: ${message}`));
            continue;
        }
        for (const validate of [policy.validateResource ?? []].flat()) {
            for (const r of resources) {
                await validate(resourceArgs(r.type, r.name, r.props), (message) => found.push(`${policy.name}: ${r.type} ${r.name}: ${message}`));
            }
        }
    }
    return found;
}
