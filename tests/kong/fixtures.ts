import { KongSettings } from "../../settings/kong";
import { loadSettings } from "../../settings";
import { AkhqEndpoint, KongCredentials } from "../../components/kong/declarative";

/** The Kong settings a stack gets from `bss:kong` (and `bss:environment`), read by the real settings module. */
export function kongSettings(kong: Record<string, unknown> = {}, environment: "dev" | "prod" = "prod"): KongSettings {
    return loadSettings({ "bss:environment": environment, "bss:kong": JSON.stringify(kong) }, "test").kong;
}

export const AKHQ: AkhqEndpoint = { host: "akhq.bss.svc.cluster.local", port: 8080, contextPath: "/akhq" };

export const CREDENTIALS: KongCredentials = {
    apiKeys: { "bss-frontend": ["frontendkey00000000000000000"], "bss-mobile": ["mobilekey000000000000000000"], "bss-partner": ["partnerkey00000000000000000"] },
    operatorPassword: "operatorpassword0000000000",
};
