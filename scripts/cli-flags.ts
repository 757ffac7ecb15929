/** The flag grammar the repository's CLIs share (`npm run verify`, `npm run kafka:drain`). */

export interface ParsedFlags {
    /** `--flag value` pairs, by flag. */
    values: Map<string, string>;
    /** Switches given (flags without a value). */
    switches: Set<string>;
    /** The value of `--stack`, which every one of them requires. */
    stack: string;
}

/**
 * Reads `--flag value` and `--switch` arguments; anything else, a value flag without its value, or no `--stack`
 * throws with the usage appended.
 */
export function parseFlags(argv: string[], valueFlags: readonly string[], switches: readonly string[], usage: string): ParsedFlags {
    const values = new Map<string, string>();
    const given = new Set<string>();
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (switches.includes(flag)) {
            given.add(flag);
        } else if (valueFlags.includes(flag) && argv[i + 1] !== undefined && !argv[i + 1].startsWith("--")) {
            values.set(flag, argv[++i]);
        } else {
            throw new Error(`${valueFlags.includes(flag) ? `${flag} needs a value` : `unknown argument ${JSON.stringify(flag)}`}\n${usage}`);
        }
    }
    const stack = values.get("--stack");
    if (!stack) {
        throw new Error(`--stack is required\n${usage}`);
    }
    return { values, switches: given, stack };
}
