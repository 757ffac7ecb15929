/** Medians and straight-line fits for the bench's repeated runs. */

export function median(values: number[]): number {
    if (values.length === 0) {
        throw new Error("median of no values");
    }
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `y = intercept + slope * x` by ordinary least squares, and how far the points sit from it. */
export interface LinearFit {
    slope: number;
    intercept: number;
    /** Coefficient of determination; 1 when every point is on the line. */
    rSquared: number;
    /** Root mean square of the residuals, in y's unit. */
    residualRms: number;
    /** Largest |residual| as a fraction of that point's y. */
    maxRelativeResidual: number;
    /** Each point's y minus the fitted y, in the order given. */
    residuals: number[];
    points: number;
}

export function linearFit(xs: number[], ys: number[]): LinearFit {
    if (xs.length !== ys.length || xs.length < 2) {
        throw new Error(`a line needs at least two points with one y each, got ${xs.length} x and ${ys.length} y`);
    }
    const n = xs.length;
    const meanX = xs.reduce((a, b) => a + b, 0) / n;
    const meanY = ys.reduce((a, b) => a + b, 0) / n;
    const sxx = xs.reduce((sum, x) => sum + (x - meanX) ** 2, 0);
    if (sxx === 0) {
        throw new Error("a line needs at least two distinct x values");
    }
    const sxy = xs.reduce((sum, x, i) => sum + (x - meanX) * (ys[i] - meanY), 0);
    const slope = sxy / sxx;
    const intercept = meanY - slope * meanX;
    const residuals = xs.map((x, i) => ys[i] - (intercept + slope * x));
    const ssRes = residuals.reduce((sum, r) => sum + r * r, 0);
    const ssTot = ys.reduce((sum, y) => sum + (y - meanY) ** 2, 0);
    return {
        slope,
        intercept,
        rSquared: ssTot === 0 ? 1 : 1 - ssRes / ssTot,
        residualRms: Math.sqrt(ssRes / n),
        maxRelativeResidual: Math.max(...residuals.map((r, i) => (ys[i] === 0 ? 0 : Math.abs(r / ys[i])))),
        residuals,
        points: n,
    };
}

/**
 * Whether the points `ys` are consistent with the straight line fitted through them: at least three distinct x (two
 * points always fit), and every point within `tolerance` (a fraction of its own y) of the line, or within its own
 * noise: half the spread (max - min) of the runs it is the median of, when `spreads` are given.
 */
export function linearVerdict(fit: LinearFit, ys: number[], spreads?: number[], tolerance = 0.1): "linear" | "not linear" | "undetermined (fewer than 3 points)" {
    if (fit.points < 3) {
        return "undetermined (fewer than 3 points)";
    }
    const close = fit.residuals.every((r, i) => Math.abs(r) <= tolerance * Math.abs(ys[i]) || (spreads !== undefined && Math.abs(r) <= spreads[i] / 2));
    return close ? "linear" : "not linear";
}

export function round(value: number, decimals = 3): number {
    const factor = 10 ** decimals;
    return Math.round(value * factor) / factor;
}
