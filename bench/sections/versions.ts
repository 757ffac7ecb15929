/** The versions the figures were measured with, read from the render and the repository's pins. */
import * as fs from "fs";
import * as path from "path";

export interface VersionsSection {
    node: string;
    kafka: string;
    redis: string;
    /** The Kubernetes the repository's test cluster builds (the stacks target any conformant cluster). */
    kubernetes: string;
    /** Helm charts by name, at the versions the stacks pin. */
    charts: Record<string, string>;
    /** Every container image the rendered stacks run, sorted. */
    images: string[];
    /** Where each figure was read. */
    sources: Record<string, string>;
}

/** The tag of the first image whose repository is `repository` (with or without a registry or `library/` prefix). */
export function imageTag(images: string[], repository: string): string {
    const found = images.find((image) => {
        const name = image.replace(/@.*$/, "").replace(/:[^/:]+$/, "");
        return name === repository || name.endsWith(`/${repository}`);
    });
    if (!found) {
        throw new Error(`no ${repository} image in the render (images: ${images.join(", ")})`);
    }
    return found.includes("@") ? found.slice(found.indexOf("@") + 1) : found.slice(found.lastIndexOf(":") + 1);
}

/** Every image of the manifests' pod templates and of the Helm releases' `image` values. */
export function renderedImages(manifests: Record<string, any>[], helmReleases: { values: Record<string, any> }[]): string[] {
    const images = new Set<string>();
    const visit = (value: unknown, key?: string) => {
        if (Array.isArray(value)) {
            value.forEach((v) => visit(v));
        } else if (value && typeof value === "object") {
            for (const [k, v] of Object.entries(value)) {
                visit(v, k);
            }
        } else if (key === "image" && typeof value === "string") {
            images.add(value);
        }
    };
    manifests.forEach((m) => visit(m.spec));
    for (const release of helmReleases) {
        const image = release.values.image;
        if (image?.repository && image?.tag) {
            images.add(`${image.repository}:${image.tag}`);
        }
    }
    return [...images].sort();
}

/** `K8S_VERSION=v1.34.4` in the test cluster's build script. */
export function kubernetesPin(buildScript: string): string {
    const match = /^K8S_VERSION=(\S+)$/m.exec(buildScript);
    if (!match) {
        throw new Error("no K8S_VERSION= line in the test cluster's build script");
    }
    return match[1];
}

export function versionsSection(root: string, manifests: Record<string, any>[], helmReleases: { chart: string; version?: unknown; values: Record<string, any> }[]): VersionsSection {
    const images = renderedImages(manifests, helmReleases);
    const buildScript = path.join(root, "scripts", "test-cluster", "build.sh");
    return {
        node: process.version,
        kafka: imageTag(images, "apache/kafka"),
        redis: imageTag(images, "redis"),
        kubernetes: kubernetesPin(fs.readFileSync(buildScript, "utf8")),
        charts: Object.fromEntries(helmReleases.map((r) => [r.chart.replace(/^.*\//, ""), String(r.version ?? "local")])),
        images,
        sources: {
            node: "the Node running the bench",
            kafka: "the apache/kafka image tag in the render",
            redis: "the redis image tag in the render",
            kubernetes: "K8S_VERSION in scripts/test-cluster/build.sh",
            charts: "the version of each Helm release in the render",
            images: "the container images of every rendered stack",
        },
    };
}
