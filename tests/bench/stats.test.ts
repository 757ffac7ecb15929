import { linearFit, linearVerdict, median } from "../../bench/stats";

describe("median", () => {
    it("is the middle value of an odd count and the mean of the middle two of an even count, whatever the order", () => {
        expect(median([5, 1, 3])).toBe(3);
        expect(median([4, 1, 3, 2])).toBe(2.5);
        expect(median([7])).toBe(7);
    });

    it("refuses an empty list", () => {
        expect(() => median([])).toThrow(/no values/);
    });
});

describe("linearFit", () => {
    it("recovers an exact line with no residual", () => {
        const ys = [1020, 1200, 3000];
        const fit = linearFit([10, 100, 1000], ys);
        expect(fit.slope).toBeCloseTo(2, 10);
        expect(fit.intercept).toBeCloseTo(1000, 8);
        expect(fit.rSquared).toBeCloseTo(1, 10);
        expect(fit.residualRms).toBeCloseTo(0, 8);
        expect(linearVerdict(fit, ys)).toBe("linear");
    });

    it("calls quadratic growth not linear, and states its residuals", () => {
        const xs = [10, 100, 300, 1000];
        const ys = xs.map((x) => 100 + x * x);
        const fit = linearFit(xs, ys);
        expect(fit.residuals).toHaveLength(4);
        expect(fit.maxRelativeResidual).toBeGreaterThan(0.1);
        expect(linearVerdict(fit, ys)).toBe("not linear");
    });

    it("calls points linear when each one's distance from the line is within its own runs' noise", () => {
        const xs = [10, 100, 1000];
        const ys = [10, 300, 1000];
        const fit = linearFit(xs, ys);
        expect(linearVerdict(fit, ys)).toBe("not linear");
        const spreads = fit.residuals.map((r) => 2 * Math.abs(r) + 1);
        expect(linearVerdict(fit, ys, spreads)).toBe("linear");
        expect(linearVerdict(fit, ys, spreads.map((s) => s / 4))).toBe("not linear");
    });

    it("computes least squares for scattered points: slope and intercept of the textbook example", () => {
        const fit = linearFit([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
        expect(fit.slope).toBeCloseTo(0.6, 10);
        expect(fit.intercept).toBeCloseTo(2.2, 10);
        expect(fit.rSquared).toBeCloseTo(0.6, 10);
    });

    it("cannot judge linearity from two points, which always fit", () => {
        expect(linearVerdict(linearFit([10, 100], [5, 90]), [5, 90])).toBe("undetermined (fewer than 3 points)");
    });

    it("refuses fewer than two points or a single x", () => {
        expect(() => linearFit([1], [1])).toThrow(/at least two points/);
        expect(() => linearFit([3, 3], [1, 2])).toThrow(/distinct x/);
    });
});
