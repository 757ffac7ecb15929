import * as path from "path";
import { checkObjects } from "../helpers/api-server-rules";
import { renderIsolated, ROOT, stackFile } from "../helpers/render";
import { readStackConfigFile } from "../../render/render";

const STACKS: [string, () => ReturnType<typeof stackFile>][] = [
    ["dev", () => stackFile("dev")],
    ["prod", () => stackFile("prod")],
    ["large", () => readStackConfigFile(path.join(ROOT, "tests", "fixtures", "Pulumi.large.yaml"))],
];

describe.each(STACKS)("stack %s", (stack, config) => {
    it("renders objects a real API server accepts", async () => {
        const rendered = await renderIsolated(stack, config());
        expect(rendered.manifests.length).toBeGreaterThan(0);
        expect(checkObjects(rendered.manifests)).toEqual([]);
    });
});

it("puts every object of the large stack in its own namespace", async () => {
    const rendered = await renderIsolated("large", STACKS[2][1]());
    const namespaces = new Set(rendered.manifests.filter((m) => m.kind !== "Namespace").map((m) => m.metadata.namespace));
    expect([...namespaces].every((ns) => ns === "telco-core")).toBe(true);
    expect(rendered.manifests.filter((m) => m.kind === "Namespace").map((m) => m.metadata.name)).toEqual(["telco-core"]);
});
