import { loadSettings, SettingsError } from "../../settings";

function problems(values: Record<string, unknown>): string[] {
    const raw = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    try {
        loadSettings(raw, "prod");
    } catch (err) {
        if (err instanceof SettingsError) {
            return err.problems;
        }
        throw err;
    }
    return [];
}

describe("bss:tls", () => {
    it("defaults to no certificates in dev and a per-stack CA elsewhere, 90-day leaves renewed 30 days ahead", () => {
        expect(loadSettings({ "bss:environment": "dev" }, "dev").tls).toEqual({ source: "off", validityDays: 90, renewBeforeDays: 30, caValidityDays: 3650, issuer: undefined });
        expect(loadSettings({}, "prod").tls).toEqual({ source: "self-signed", validityDays: 90, renewBeforeDays: 30, caValidityDays: 3650, issuer: undefined });
    });

    it("reads a cert-manager issuer as kind and name", () => {
        const tls = loadSettings({ "bss:tls": JSON.stringify({ source: "cert-manager", issuer: "ClusterIssuer/letsencrypt-prod" }) }, "prod").tls;
        expect(tls.issuer).toEqual({ kind: "ClusterIssuer", name: "letsencrypt-prod" });
    });

    it("refuses, in one error, what cannot work: no issuer for cert-manager, an issuer or a CA lifetime it would ignore, renewal after expiry", () => {
        expect(problems({ "bss:tls": { source: "cert-manager", caValidityDays: 100 } })).toEqual([
            "bss:tls.issuer must name the cert-manager issuer (\"Issuer/<name>\" or \"ClusterIssuer/<name>\") when bss:tls.source is \"cert-manager\", got nothing",
            "bss:tls.caValidityDays is used only with bss:tls.source \"self-signed\" (the source is \"cert-manager\"), got 100",
        ]);
        expect(problems({ "bss:tls": { issuer: "Issuer/ca", validityDays: 30, renewBeforeDays: 30 } })).toEqual([
            "bss:tls.issuer is used only with bss:tls.source \"cert-manager\" (the source is \"self-signed\"), got \"Issuer/ca\"",
            "bss:tls.renewBeforeDays must be below bss:tls.validityDays (30), got 30",
        ]);
    });

    it("names the key and the value of a malformed field", () => {
        const found = problems({ "bss:tls": { source: "letsencrypt", issuer: "ca", validityDays: 0 } });
        expect(found).toHaveLength(3);
        expect(found[0]).toMatch(/^bss:tls\.source must be one of .*got "letsencrypt"$/);
        expect(found[1]).toMatch(/^bss:tls\.issuer must be "Issuer\/<name>" or "ClusterIssuer\/<name>", got "ca"$/);
        expect(found[2]).toMatch(/^bss:tls\.validityDays .*got 0$/);
    });
});
