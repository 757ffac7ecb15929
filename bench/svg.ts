/** Small hand-built SVG charts for the report: stacked bars and points with a fitted line. */

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

export function escapeXml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(n: number): string {
    return String(Math.round(n * 10) / 10);
}

export interface StackedBar {
    label: string;
    unit: string;
    segments: { label: string; value: number }[];
    /** Drawn as a vertical line across the bar. */
    budget?: { label: string; value: number };
}

/**
 * Horizontal bars, one per entry, each split into one segment per component. Every bar is scaled to its own
 * maximum (bar total or budget), since CPU and memory share no unit; the legend lists the components once.
 */
export function stackedBarsSvg(title: string, bars: StackedBar[], width = 640): string {
    const labels = [...new Set(bars.flatMap((b) => b.segments.map((s) => s.label)))];
    const colour = (label: string) => PALETTE[labels.indexOf(label) % PALETTE.length];
    const left = 150;
    const right = 30;
    const barHeight = 28;
    const rowHeight = 64;
    const top = 40;
    const legendTop = top + bars.length * rowHeight + 10;
    const height = legendTop + Math.ceil(labels.length / 3) * 20 + 10;
    const plotWidth = width - left - right;
    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(title)}</title>`,
        `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ];
    bars.forEach((bar, row) => {
        const totalValue = bar.segments.reduce((sum, s) => sum + s.value, 0);
        const scaleMax = Math.max(totalValue, bar.budget?.value ?? 0) || 1;
        const y = top + row * rowHeight;
        parts.push(`<g class="bar" data-label="${escapeXml(bar.label)}">`);
        parts.push(`<text x="10" y="${y + barHeight / 2 + 4}">${escapeXml(bar.label)}</text>`);
        let x = left;
        for (const segment of bar.segments) {
            const w = (segment.value / scaleMax) * plotWidth;
            parts.push(`<rect class="segment" x="${fmt(x)}" y="${y}" width="${fmt(w)}" height="${barHeight}" fill="${colour(segment.label)}"><title>${escapeXml(`${segment.label}: ${fmt(segment.value)} ${bar.unit}`)}</title></rect>`);
            x += w;
        }
        parts.push(`<text x="${left}" y="${y + barHeight + 14}" fill="#333">${escapeXml(`${fmt(totalValue)} ${bar.unit}`)}</text>`);
        if (bar.budget) {
            const bx = left + (bar.budget.value / scaleMax) * plotWidth;
            parts.push(`<line class="budget" x1="${fmt(bx)}" y1="${y - 4}" x2="${fmt(bx)}" y2="${y + barHeight + 4}" stroke="#000" stroke-width="2" stroke-dasharray="4 2"/>`);
            parts.push(`<text x="${fmt(bx)}" y="${y + barHeight + 14}" text-anchor="end" fill="#000">${escapeXml(`${bar.budget.label} ${fmt(bar.budget.value)} ${bar.unit}`)}</text>`);
        }
        parts.push(`</g>`);
    });
    labels.forEach((label, i) => {
        const x = 10 + (i % 3) * 210;
        const y = legendTop + Math.floor(i / 3) * 20;
        parts.push(`<rect class="legend" x="${x}" y="${y}" width="12" height="12" fill="${colour(label)}"/>`);
        parts.push(`<text x="${x + 18}" y="${y + 11}">${escapeXml(label)}</text>`);
    });
    parts.push(`</svg>`);
    return parts.join("\n") + "\n";
}

export interface Series {
    label: string;
    points: { x: number; y: number }[];
    /** A fitted line `y = intercept + slope * x`, drawn across the x range. */
    fit?: { slope: number; intercept: number };
}

/** Points per series with their fitted lines, on linear axes from 0. */
export function scatterSvg(title: string, xLabel: string, yLabel: string, series: Series[], width = 640, height = 360): string {
    const left = 70;
    const right = 20;
    const top = 40;
    const bottom = 70;
    const all = series.flatMap((s) => s.points);
    const xMax = Math.max(1, ...all.map((p) => p.x));
    const yMax = Math.max(1, ...all.map((p) => p.y)) * 1.1;
    const px = (x: number) => left + (x / xMax) * (width - left - right);
    const py = (y: number) => height - bottom - (y / yMax) * (height - top - bottom);
    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(title)}</title>`,
        `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
        `<line class="axis" x1="${left}" y1="${py(0)}" x2="${width - right}" y2="${py(0)}" stroke="#000"/>`,
        `<line class="axis" x1="${left}" y1="${py(0)}" x2="${left}" y2="${top}" stroke="#000"/>`,
        `<text x="${(left + width - right) / 2}" y="${height - bottom + 32}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
        `<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(top + height - bottom) / 2})">${escapeXml(yLabel)}</text>`,
    ];
    for (let i = 0; i <= 4; i++) {
        const x = (xMax * i) / 4;
        const y = (yMax * i) / 4;
        parts.push(`<text x="${fmt(px(x))}" y="${py(0) + 16}" text-anchor="middle">${fmt(x)}</text>`);
        parts.push(`<text x="${left - 6}" y="${fmt(py(y) + 4)}" text-anchor="end">${fmt(y)}</text>`);
    }
    series.forEach((s, i) => {
        const colour = PALETTE[i % PALETTE.length];
        parts.push(`<g class="series" data-label="${escapeXml(s.label)}">`);
        if (s.fit) {
            parts.push(`<line class="fit" x1="${fmt(px(0))}" y1="${fmt(py(s.fit.intercept))}" x2="${fmt(px(xMax))}" y2="${fmt(py(s.fit.intercept + s.fit.slope * xMax))}" stroke="${colour}" stroke-dasharray="5 3"/>`);
        }
        for (const p of s.points) {
            parts.push(`<circle class="point" cx="${fmt(px(p.x))}" cy="${fmt(py(p.y))}" r="4" fill="${colour}"><title>${escapeXml(`${s.label}: ${fmt(p.x)}, ${fmt(p.y)}`)}</title></circle>`);
        }
        parts.push(`</g>`);
        parts.push(`<rect class="legend" x="${10 + i * 210}" y="${height - 22}" width="12" height="12" fill="${colour}"/>`);
        parts.push(`<text x="${28 + i * 210}" y="${height - 11}">${escapeXml(s.label)}</text>`);
    });
    parts.push(`</svg>`);
    return parts.join("\n") + "\n";
}
