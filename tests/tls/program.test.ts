/**
 * The real program under Pulumi's mocks: which certificates each `bss:tls` source creates, what reaches the Kong
 * chart, what the stack exports, and the API-key rotation window in the generated Kong config.
 */
import * as yaml from "js-yaml";
import { inlineConfig, outputValue, renderIsolated, RenderedStack, stackFile } from "../helpers/render";
import { RenderedResource, StackConfig } from "../../render/render";
import { KONG_CONFIG_SECRET } from "../../components/kong/gateway";
import { TLS_CHECKSUM_ANNOTATION } from "../../components/kong/values";
import { sha256Hex } from "../../components/shared/checksum";

jest.setTimeout(180_000);

function stackWith(stack: string, values: Record<string, unknown>, secretKeys: string[] = []): StackConfig {
    const base = stackFile(stack);
    const extra = inlineConfig(values, secretKeys);
    return { values: { ...base.values, ...extra.values }, secretKeys: [...base.secretKeys, ...extra.secretKeys] };
}

const ofType = (r: RenderedStack, type: string) => r.resources.filter((x) => x.type === type);
const kongValues = (r: RenderedStack) => r.resources.find((x) => x.type === "kubernetes:helm.sh/v4:Chart" && x.inputs.chart === "kong")!.inputs.values;
const secretNamed = (r: RenderedStack, name: string): RenderedResource | undefined =>
    r.resources.find((x) => x.type === "kubernetes:core/v1:Secret" && x.inputs.metadata?.name === name);
const TLS_TYPES = ["tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert", "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert"];

describe("prod (bss:tls.source self-signed by default)", () => {
    let r: RenderedStack;
    beforeAll(async () => {
        r = await renderIsolated("prod", stackWith("prod", { "bss:kong": { hostnames: ["api.example.com"] } }));
    });

    it("creates one CA and signs the proxy's certificate with it, for the public name and every Service name", () => {
        const [ca] = ofType(r, "tls:index/selfSignedCert:SelfSignedCert");
        expect(ofType(r, "tls:index/selfSignedCert:SelfSignedCert")).toHaveLength(1);
        expect(ca.inputs).toMatchObject({ isCaCertificate: true, validityPeriodHours: 87600, allowedUses: ["cert_signing", "crl_signing", "digital_signature"] });
        const [csr] = ofType(r, "tls:index/certRequest:CertRequest");
        expect(csr.inputs.dnsNames).toEqual(["api.example.com", "kong-proxy", "kong-proxy.bss", "kong-proxy.bss.svc", "kong-proxy.bss.svc.cluster.local"]);
        expect(csr.inputs.subject.commonName).toBe("api.example.com");
        const [leaf] = ofType(r, "tls:index/locallySignedCert:LocallySignedCert");
        expect(leaf.inputs).toMatchObject({ validityPeriodHours: 2160, earlyRenewalHours: 720, allowedUses: ["server_auth", "digital_signature", "key_encipherment"] });
        expect(leaf.inputs.caCertPem).toBe(ca.inputs.certPem ?? leaf.inputs.caCertPem);
    });

    it("puts the chain, the key and the CA into a kubernetes.io/tls Secret, the key as a secret", async () => {
        const secret = secretNamed(r, "kong-proxy-tls")!;
        expect(secret.inputs.type).toBe("kubernetes.io/tls");
        expect(Object.keys(secret.inputs.stringData).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
        expect(secret.inputs.stringData["tls.crt"]).toMatch(/BEGIN CERTIFICATE[\s\S]*render-placeholder-kong-proxy-tls-cert[\s\S]*BEGIN CERTIFICATE[\s\S]*render-placeholder-tls-ca-cert/);
        const manifest = r.manifests.find((m) => m.kind === "Secret" && m.metadata?.name === "kong-proxy-tls")!;
        expect(JSON.stringify(manifest)).not.toContain("renderplaceholdersecret");
    });

    it("has Kong serve it on the proxy's TLS listener and roll when it changes", () => {
        const values = kongValues(r);
        expect(values.secretVolumes).toEqual(["kong-proxy-tls"]);
        expect(values.env.ssl_cert).toBe("/etc/secrets/kong-proxy-tls/tls.crt");
        expect(values.env.ssl_cert_key).toBe("/etc/secrets/kong-proxy-tls/tls.key");
        const leaf = ofType(r, "tls:index/locallySignedCert:LocallySignedCert")[0];
        expect(values.podAnnotations[TLS_CHECKSUM_ANNOTATION]).toBe(sha256Hex(`-----BEGIN CERTIFICATE-----\nrender-placeholder-${leaf.name}\n-----END CERTIFICATE-----\n`));
    });

    it("exports the CA certificate in plain text (clients need it) and no key", async () => {
        expect(await outputValue(r.exports.tlsCaCertificate)).toMatch(/render-placeholder-tls-ca-cert/);
        expect(await r.exports.tlsCaCertificate.isSecret).toBe(false);
        expect(Object.keys(r.exports).filter((name) => /key/i.test(name))).toEqual(["kongApiKeys"]);
        expect(await r.exports.kongApiKeys.isSecret).toBe(true);
    });
});

describe("dev (bss:tls.source off)", () => {
    it("creates no certificate: Kong serves its built-in one, and tlsCaCertificate is null", async () => {
        const r = await renderIsolated("dev", stackFile("dev"));
        expect(r.resources.filter((x) => TLS_TYPES.includes(x.type))).toEqual([]);
        expect(secretNamed(r, "kong-proxy-tls")).toBeUndefined();
        expect(kongValues(r).secretVolumes ?? []).toEqual([]);
        expect(kongValues(r).env.ssl_cert).toBeUndefined();
        expect(r.exports.tlsCaCertificate).toBeNull();
    });
});

describe("bss:kong.tlsSecret", () => {
    it("serves the operator's Secret and creates no proxy certificate, while the CA stays for the other components", async () => {
        const r = await renderIsolated("prod", stackWith("prod", { "bss:kong": { tlsSecret: "api-example-com" } }));
        expect(ofType(r, "tls:index/locallySignedCert:LocallySignedCert")).toEqual([]);
        expect(ofType(r, "tls:index/selfSignedCert:SelfSignedCert")).toHaveLength(1);
        expect(kongValues(r).secretVolumes).toEqual(["api-example-com"]);
        expect(kongValues(r).env.ssl_cert).toBe("/etc/secrets/api-example-com/tls.crt");
    });
});

describe("bss:tls.source cert-manager", () => {
    it("asks the named issuer for the proxy's certificate and keeps no CA or key in the state", async () => {
        const r = await renderIsolated("prod", stackWith("prod", { "bss:tls": { source: "cert-manager", issuer: "ClusterIssuer/corp-ca" } }));
        expect(r.resources.filter((x) => TLS_TYPES.includes(x.type))).toEqual([]);
        const certificate = r.manifests.find((m) => m.kind === "Certificate")!;
        expect(certificate).toMatchObject({
            apiVersion: "cert-manager.io/v1",
            metadata: { name: "kong-proxy-tls", namespace: "bss" },
            spec: { secretName: "kong-proxy-tls", issuerRef: { kind: "ClusterIssuer", name: "corp-ca", group: "cert-manager.io" }, duration: "2160h", renewBefore: "720h" },
        });
        expect(kongValues(r).secretVolumes).toEqual(["kong-proxy-tls"]);
        expect(r.exports.tlsCaCertificate).toBeNull();
    });
});

describe("API-key rotation (bss:kongApiKeys with two keys)", () => {
    it("accepts both keys in Kong's config and exports the new one", async () => {
        const current = "current-frontend-key-0000000000";
        const next = "next-frontend-key-00000000000000";
        const r = await renderIsolated("dev", stackWith("dev", { "bss:kongApiKeys": { "bss-frontend": [current, next] } }, ["bss:kongApiKeys"]));
        const config = secretNamed(r, KONG_CONFIG_SECRET)!;
        const kong = yaml.load(config.inputs.stringData["kong.yml"]) as { consumers: { username: string; keyauth_credentials?: { key: string }[] }[] };
        expect(kong.consumers.find((c) => c.username === "bss-frontend")!.keyauth_credentials).toEqual([{ key: current }, { key: next }]);
        expect(kong.consumers.find((c) => c.username === "bss-mobile")!.keyauth_credentials).toHaveLength(1);
        expect((await outputValue(r.exports.kongApiKeys) as Record<string, string>)["bss-frontend"]).toBe(next);
    });
});
