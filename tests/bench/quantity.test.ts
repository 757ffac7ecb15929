import { cpuMillis, memoryBytes, parseQuantity, toMiB } from "../../bench/quantity";

describe("Kubernetes quantities", () => {
    it.each([
        ["500m", 500], ["1", 1000], ["2", 2000], ["0.5", 500], ["2.25", 2250], [".1", 100], ["1.", 1000],
        ["250000u", 250], ["1000000n", 1], ["1e0", 1000], ["1k", 1000000],
    ])("CPU %s is %d millicores", (text, millis) => {
        expect(cpuMillis(text)).toBe(millis);
    });

    it("rounds a fraction of a millicore up, as the API server does", () => {
        expect(cpuMillis("0.0001")).toBe(1);
        expect(cpuMillis("1500u")).toBe(2);
    });

    it.each([
        ["1Ki", 1024], ["512Mi", 512 * 1024 * 1024], ["1.5Gi", 1610612736], ["2Ti", 2 * 1024 ** 4], [".5Ki", 512],
        ["1k", 1000], ["1M", 1e6], ["1G", 1e9], ["129e6", 129e6], ["1E6", 1e6], ["128974848", 128974848], ["1e3", 1000], ["1.5k", 1500],
    ])("memory %s is %d bytes", (text, bytes) => {
        expect(memoryBytes(text)).toBe(bytes);
    });

    it("keeps decimal units exact until the MiB conversion", () => {
        expect(parseQuantity("0.1")).toEqual({ numerator: 1n, denominator: 10n });
        expect(memoryBytes("0.1Gi")).toBe(Math.ceil(0.1 * 2 ** 30));
        expect(toMiB(memoryBytes("1G"))).toBe(953.674);
        expect(toMiB(memoryBytes("1Gi"))).toBe(1024);
    });

    it.each(["", "Gi", "1.2.3", "1KiB", "1 Gi", "1gi", "one", "1e", "0x10", "1Mi5"])("refuses %j", (text) => {
        expect(() => parseQuantity(text)).toThrow(/not a Kubernetes quantity/);
    });

    it("refuses negative amounts", () => {
        expect(() => memoryBytes("-1Gi")).toThrow(/cannot be negative/);
    });
});
