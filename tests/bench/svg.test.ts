import { escapeXml, scatterSvg, stackedBarsSvg } from "../../bench/svg";
import { xmlProblems } from "./xml";

function count(text: string, pattern: RegExp): number {
    return (text.match(pattern) ?? []).length;
}

describe("the XML check itself", () => {
    it("catches unbalanced tags, unquoted attributes and raw ampersands", () => {
        expect(xmlProblems("<svg><g></svg>")).not.toEqual([]);
        expect(xmlProblems("<svg width=5></svg>")).not.toEqual([]);
        expect(xmlProblems("<svg><text>a & b</text></svg>")).not.toEqual([]);
        expect(xmlProblems('<svg width="5"><text>a &amp; b</text><rect/></svg>')).toEqual([]);
    });
});

describe("stackedBarsSvg", () => {
    const components = ["Kafka", "ZooKeeper", "Redis <cluster>", "Kong & co"];
    const svg = stackedBarsSvg("dev & friends", [
        { label: "CPU", unit: "m", segments: components.map((c, i) => ({ label: c, value: 100 * (i + 1) })), budget: { label: "budget", value: 2000 } },
        { label: "memory", unit: "MiB", segments: components.map((c, i) => ({ label: c, value: 256 * (i + 1) })), budget: { label: "budget", value: 4096 } },
    ]);

    it("is well-formed XML with its size on the root element", () => {
        expect(xmlProblems(svg)).toEqual([]);
        expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="\d+" viewBox="0 0 640 \d+"/);
    });

    it("draws one segment per component in each bar, one legend entry per component and the budget line", () => {
        const bars = svg.split('<g class="bar"').slice(1);
        expect(bars).toHaveLength(2);
        for (const bar of bars) {
            expect(count(bar, /class="segment"/g)).toBe(components.length);
            expect(count(bar, /class="budget"/g)).toBe(1);
        }
        expect(count(svg, /class="legend"/g)).toBe(components.length);
        expect(svg).toContain(escapeXml("Redis <cluster>"));
    });

    it("scales segments to the bar: a bar under budget ends left of the budget line", () => {
        const bar = svg.split('<g class="bar"')[1];
        const ends = [...bar.matchAll(/class="segment" x="([\d.]+)" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]) + Number(m[2]));
        const budgetX = Number(/class="budget" x1="([\d.]+)"/.exec(bar)![1]);
        expect(Math.max(...ends)).toBeLessThan(budgetX);
    });
});

describe("scatterSvg", () => {
    const svg = scatterSvg("render cost", "topics", "ms", [
        { label: "wall", points: [{ x: 10, y: 100 }, { x: 100, y: 200 }, { x: 1000, y: 1200 }], fit: { slope: 1.1, intercept: 90 } },
        { label: "cpu", points: [{ x: 10, y: 50 }, { x: 100, y: 80 }] },
    ]);

    it("is well-formed XML with its size, one point per measurement and a line per fit", () => {
        expect(xmlProblems(svg)).toEqual([]);
        expect(svg).toContain('width="640" height="360"');
        expect(count(svg, /class="point"/g)).toBe(5);
        expect(count(svg, /class="fit"/g)).toBe(1);
    });
});
