/**
 * Small typed readers for stack config values. Each reader either returns a value or records one problem
 * that names the config key and the value it got, so validation can report every problem in one error.
 */

export type Problems = string[];

/** How a config value is shown in an error message: JSON, so strings keep their quotes. */
export function shown(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export interface Reader<T> {
    (key: string, value: unknown, problems: Problems): T | undefined;
}

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Reader<number> => (key, value, problems) => {
    if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) {
        return value;
    }
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    problems.push(`${key} must be an integer ${range}, got ${shown(value)}`);
    return undefined;
};

export const boolean: Reader<boolean> = (key, value, problems) => {
    if (typeof value === "boolean") {
        return value;
    }
    problems.push(`${key} must be true or false, got ${shown(value)}`);
    return undefined;
};

export const string = (pattern?: RegExp, what = "a non-empty string"): Reader<string> => (key, value, problems) => {
    if (typeof value === "string" && value.length > 0 && (!pattern || pattern.test(value))) {
        return value;
    }
    problems.push(`${key} must be ${what}, got ${shown(value)}`);
    return undefined;
};

export const oneOf = <T extends string>(...choices: T[]): Reader<T> => (key, value, problems) => {
    if (typeof value === "string" && (choices as string[]).includes(value)) {
        return value as T;
    }
    problems.push(`${key} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${shown(value)}`);
    return undefined;
};

export const listOf = <T>(item: Reader<T>, minItems = 0): Reader<T[]> => (key, value, problems) => {
    if (!Array.isArray(value) || value.length < minItems) {
        problems.push(`${key} must be a list with at least ${minItems} item(s), got ${shown(value)}`);
        return undefined;
    }
    const items = value.map((v, i) => item(`${key}[${i}]`, v, problems));
    return items.every((v) => v !== undefined) ? (items as T[]) : undefined;
};

/** A Kubernetes memory or CPU quantity such as `512Mi`, `2Gi`, `500m`, `1`. */
export const quantity = string(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, "a Kubernetes quantity such as \"512Mi\" or \"500m\"");

/** DNS-1123 label: what Kubernetes accepts for namespace and Service names. */
export const dns1123Label = string(/^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)");

/** A host name or IP address a client can dial. */
export const hostName = string(/^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/, "a host name or IP address");

/** An image reference pinned to a tag or digest (a floating `latest` is refused). */
export const pinnedImage = string(/^[a-z0-9][a-z0-9._\/:-]*(:(?!latest$)[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$/, "an image reference with a pinned tag or digest (not \"latest\")");

export const url = string(/^https?:\/\/[^\s/]+(\/\S*)?$/, "an http(s) URL");

export type Spec<T> = { [K in keyof T]-?: Reader<Exclude<T[K], undefined>> };

/**
 * Reads an object against a spec: unknown fields are problems (a typo must not be silently ignored),
 * present fields are read by their reader, absent ones stay absent so the caller can default them.
 */
export function object<T extends object>(spec: Spec<T>): Reader<Partial<T>> {
    return (key, value, problems) => {
        if (value === undefined) {
            return {};
        }
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            problems.push(`${key} must be an object, got ${shown(value)}`);
            return undefined;
        }
        const result: Partial<T> = {};
        for (const [field, fieldValue] of Object.entries(value)) {
            const reader = (spec as Record<string, Reader<unknown>>)[field];
            if (!reader) {
                const known = Object.keys(spec).sort().join(", ");
                problems.push(`${key}.${field} is not a known setting (known: ${known}), got ${shown(fieldValue)}`);
                continue;
            }
            const read = reader(`${key}.${field}`, fieldValue, problems);
            if (read !== undefined) {
                (result as Record<string, unknown>)[field] = read;
            }
        }
        return result;
    };
}

/** A map from free-form names to values read by one reader. */
export function mapOf<T>(item: Reader<T>): Reader<Record<string, T>> {
    return (key, value, problems) => {
        if (value === undefined) {
            return {};
        }
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            problems.push(`${key} must be an object, got ${shown(value)}`);
            return undefined;
        }
        const result: Record<string, T> = {};
        for (const [name, entry] of Object.entries(value)) {
            const read = item(`${key}.${name}`, entry, problems);
            if (read !== undefined) {
                result[name] = read;
            }
        }
        return result;
    };
}

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const decimalSuffixes: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3, "": 1 };

/** Bytes in a memory quantity (`512Mi` → 536870912). */
export function quantityToBytes(text: string): number {
    const match = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(text);
    if (!match) {
        throw new Error(`not a quantity: ${text}`);
    }
    const factor = binarySuffixes[match[2]] ?? decimalSuffixes[match[2]];
    if (factor === undefined) {
        throw new Error(`not a quantity: ${text}`);
    }
    return Math.floor(Number(match[1]) * factor);
}
