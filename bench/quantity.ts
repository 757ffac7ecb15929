/**
 * Kubernetes resource quantities (`resource.Quantity`), parsed exactly: the value is kept as a fraction of two
 * BigInts, so `1.5Gi`, `0.1` CPU and `1e3` come out to the byte and the millicore without floating-point drift.
 */

/** A non-negative rational number `numerator / denominator`. */
export interface Exact {
    numerator: bigint;
    denominator: bigint;
}

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
/** Decimal SI suffixes as powers of ten. */
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** The grammar of `resource.Quantity`: sign, digits with an optional fraction, then a binary, decimal or exponent suffix. */
const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

/** The exact value of a quantity; throws on anything `resource.ParseQuantity` would refuse, and on negative amounts. */
export function parseQuantity(text: string): Exact {
    const match = QUANTITY.exec(text.trim());
    if (!match) {
        throw new Error(`not a Kubernetes quantity: ${JSON.stringify(text)}`);
    }
    const [, sign, number, suffix = ""] = match;
    const [whole, fraction = ""] = number.split(".");
    let numerator = BigInt(`${whole || "0"}${fraction}`);
    let denominator = 10n ** BigInt(fraction.length);
    if (sign === "-" && numerator !== 0n) {
        throw new Error(`a resource amount cannot be negative, got ${JSON.stringify(text)}`);
    }
    if (suffix in BINARY) {
        numerator *= BINARY[suffix];
    } else {
        const exponent = suffix in DECIMAL ? DECIMAL[suffix] : Number(suffix.slice(1));
        if (exponent >= 0) {
            numerator *= 10n ** BigInt(exponent);
        } else {
            denominator *= 10n ** BigInt(-exponent);
        }
    }
    return { numerator, denominator };
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
    return (numerator + denominator - 1n) / denominator;
}

/** CPU in millicores; like the API server, a fraction of a millicore rounds up (`0.0001` is 1m). */
export function cpuMillis(text: string): number {
    const { numerator, denominator } = parseQuantity(text);
    return Number(ceilDiv(numerator * 1000n, denominator));
}

/** Memory in bytes, rounded up to a whole byte (`1.5k` is 1500, `0.5Ki` is 512). */
export function memoryBytes(text: string): number {
    const { numerator, denominator } = parseQuantity(text);
    return Number(ceilDiv(numerator, denominator));
}

export const MIB = 1 << 20;

/** Bytes as MiB, to three decimals (decimal units such as `1G` are not whole MiB). */
export function toMiB(bytes: number): number {
    return Math.round((bytes / MIB) * 1000) / 1000;
}
