import * as yaml from "js-yaml";
import { buildKongConfig, renderKongConfig } from "../../components/kong/declarative";
import { BUNDLED_PLUGINS, PLUGIN_CONFIG, validateKongConfig } from "../../components/kong/validate";
import { AKHQ, CREDENTIALS, kongSettings } from "./fixtures";

type Doc = Record<string, any>;

/** A fresh parsed kong.yml as Kong would read it, with every optional plugin switched on. */
function valid(): Doc {
    const settings = kongSettings({
        httpLogEndpoint: "http://log-collector.monitoring.svc.cluster.local:8080/kong",
        toolAllowedCidrs: ["10.0.0.0/8"],
        rateLimitPolicy: "redis",
        rateLimitRedis: "redis-ratelimit.bss.svc.cluster.local:6379",
        loadBalancing: "least-connections",
    });
    return yaml.load(renderKongConfig(buildKongConfig(settings, AKHQ, CREDENTIALS))) as Doc;
}

const plugin = (doc: Doc, name: string, route?: string): Doc => doc.plugins.find((p: Doc) => p.name === name && (route === undefined || p.route === route));

describe("accepts", () => {
    it.each([
        ["the defaults", {}],
        ["every option", { httpLogEndpoint: "https://logs.example.com/kong", toolAllowedCidrs: ["192.168.0.0/16", "127.0.0.1"], loadBalancing: "least-connections" }],
        ["the redis policy", { rateLimitPolicy: "redis", rateLimitRedis: "10.1.2.3:6379" }],
        ["several backend targets", { backendTargets: ["backend-a.bss:8080", "10.0.0.12:8081"] }],
    ])("the config generated from %s", (_what, kong) => {
        const doc = yaml.load(renderKongConfig(buildKongConfig(kongSettings(kong), AKHQ, CREDENTIALS)));
        expect(validateKongConfig(doc)).toEqual([]);
    });

    it("the config with every plugin switched on", () => {
        expect(validateKongConfig(valid())).toEqual([]);
    });

    it("has a config schema for every plugin it lets through, and only bundled ones", () => {
        for (const name of Object.keys(PLUGIN_CONFIG)) {
            expect(BUNDLED_PLUGINS.has(name)).toBe(true);
        }
    });
});

/** Each case breaks one rule of a valid config; the validator must report exactly that problem. */
const CASES: [string, (doc: Doc) => void, RegExp][] = [
    ["a format version other than 3.0", (d) => { d._format_version = "2.1"; }, /^_format_version: /],
    ["an unknown top-level key", (d) => { d.apis = []; }, /^apis: unknown top-level key/],
    ["an unknown service field", (d) => { d.services[0].upstream_url = "http://x"; }, /^services\[0\]\.upstream_url: unknown field/],
    ["a service protocol Kong does not know", (d) => { d.services[1].protocol = "ftp"; }, /^services\[1\]\.protocol: expected one of: http, https/],
    ["a service port out of range", (d) => { d.services[1].port = 70000; }, /^services\[1\]\.port: value should be between 0 and 65535/],
    ["retries as text", (d) => { d.services[0].retries = "3"; }, /^services\[0\]\.retries: expected an integer/],
    ["a service host that is not a hostname", (d) => { d.services[2].host = "prometheus server"; }, /^services\[2\]\.host: must be a valid hostname/],
    ["a service without a host", (d) => { delete d.services[3].host; }, /^services\[3\]\.host: required field missing/],
    ["a service name with a space", (d) => { d.services[4].name = "pg hero"; d.routes[4].service = "pg hero"; }, /^services\[4\]\.name: must contain only letters/],
    ["two services of one name", (d) => { d.services[2].name = "grafana"; d.routes[2].service = "grafana"; }, /^services\[2\]\.name: name "grafana" is already used by services\[1\]\.name/],
    ["two routes of one name", (d) => { d.routes.push({ ...d.routes[0], paths: ["/api-v2"] }); }, /^routes\[6\]\.name: name "bss-api" is already used by routes\[0\]\.name/],
    ["a route protocol Kong does not know", (d) => { d.routes[0].protocols = ["http", "spdy"]; }, /^routes\[0\]\.protocols\[1\]: expected one of:/],
    ["an HTTP method Kong does not know", (d) => { d.routes[1].methods = ["GET", "FETCH"]; }, /^routes\[1\]\.methods\[1\]: expected one of: GET, HEAD/],
    ["a method listed twice", (d) => { d.routes[1].methods = ["GET", "GET"]; }, /^routes\[1\]\.methods: a set must not repeat an element/],
    ["a path without a leading slash", (d) => { d.routes[0].paths = ["api"]; }, /^routes\[0\]\.paths\[0\]: must start with "\/" \(or "~" for a regex\)/],
    ["a regex path that does not compile", (d) => { d.routes[0].paths = ["~/api/(v1|v2"]; }, /^routes\[0\]\.paths\[0\]: is not a valid regex/],
    ["a broken percent-escape in a path", (d) => { d.routes[0].paths = ["/api%2"]; }, /^routes\[0\]\.paths\[0\]: must contain only RFC 3986 path characters/],
    ["a redirect status Kong does not send", (d) => { d.routes[0].https_redirect_status_code = 303; }, /^routes\[0\]\.https_redirect_status_code: expected one of: 426, 301/],
    ["a path_handling version Kong does not know", (d) => { d.routes[0].path_handling = "v2"; }, /^routes\[0\]\.path_handling: expected one of: v0, v1/],
    ["an http route with nothing to match on", (d) => { delete d.routes[2].paths; }, /^routes\[2\]: must set one of 'methods', 'hosts', 'headers', 'paths'/],
    ["a route to a service that does not exist", (d) => { d.routes.push({ ...d.routes[5], name: "bss-kafka-ui", paths: ["/kafka-ui"], service: "kafka-ui" }); }, /^routes\[6\]\.service: no service named "kafka-ui"/],
    ["a service no route reaches", (d) => { d.services.push({ name: "orphan", protocol: "http", host: "orphan.bss", port: 80 }); }, /^services\[6\]: service "orphan" has no route/],
    ["a service host naming an undefined upstream", (d) => {
        d.services.push({ name: "billing", protocol: "http", host: "bss-billing.upstream", port: 80 });
        d.routes.push({ name: "bss-billing", service: "billing", paths: ["/billing"] });
    }, /^services\[6\]\.host: "bss-billing\.upstream" project rule: a host ending in "\.upstream"/],
    ["an upstream algorithm Kong does not know", (d) => { d.upstreams[0].algorithm = "random"; }, /^upstreams\[0\]\.algorithm: expected one of: round-robin, least-connections/],
    ["hash_on next to least-connections", (d) => { d.upstreams[0].hash_on = "none"; }, /^upstreams\[0\]\.hash_on: only read by algorithm "consistent-hashing"/],
    ["an upstream named by an IP address", (d) => { d.upstreams[0].name = "10.0.0.1"; d.services[0].host = "10.0.0.1"; }, /^upstreams\[0\]\.name: must be a valid hostname \(no IP address, no port\)/],
    ["an upstream without targets", (d) => { d.upstreams[0].targets = []; }, /^upstreams\[0\]\.targets: project rule: an upstream without targets/],
    ["a target port out of range", (d) => { d.upstreams[0].targets[0].target = "backend.bss:99999"; }, /^upstreams\[0\]\.targets\[0\]\.target: has an invalid port/],
    ["a target listed twice", (d) => { d.upstreams[0].targets.push({ ...d.upstreams[0].targets[0] }); }, /^upstreams\[0\]\.targets\[1\]\.target: target .* is already used/],
    ["a health-check path without a slash", (d) => { d.upstreams[0].healthchecks.active.http_path = "actuator/health"; }, /^upstreams\[0\]\.healthchecks\.active\.http_path: must start with "\/"/],
    ["a health-check counter above 255", (d) => { d.upstreams[0].healthchecks.passive.unhealthy.http_failures = 300; }, /^upstreams\[0\]\.healthchecks\.passive\.unhealthy\.http_failures: value should be between 0 and 255/],
    ["a health-check type Kong does not know", (d) => { d.upstreams[0].healthchecks.active.type = "icmp"; }, /^upstreams\[0\]\.healthchecks\.active\.type: expected one of: tcp, http/],
    ["a consumer with neither username nor custom_id", (d) => { delete d.consumers[1].username; }, /^consumers\[1\]: at least one of these fields must be non-empty: 'custom_id', 'username'/],
    ["two consumers of one username", (d) => { d.consumers[1].username = "bss-frontend"; }, /^consumers\[1\]\.username: username "bss-frontend" is already used/],
    ["one key for two consumers", (d) => { d.consumers[1].keyauth_credentials[0].key = d.consumers[0].keyauth_credentials[0].key; }, /^consumers\[1\]\.keyauth_credentials\[0\]\.key: key .* is already used by consumers\[0\]/],
    ["a basic-auth credential without a password", (d) => { delete d.consumers[3].basicauth_credentials[0].password; }, /^consumers\[3\]\.basicauth_credentials\[0\]\.password: required field missing/],
    ["a plugin not bundled with open-source Kong", (d) => { plugin(d, "prometheus").name = "openid-connect"; }, /^plugins\[\d+\]\.name: plugin "openid-connect" is not bundled/],
    ["a bundled plugin the validator has no schema for", (d) => { d.plugins.push({ name: "acl", instance_name: "acl-x", config: {} }); }, /^plugins\[\d+\]\.name: the validator has no schema for plugin "acl"/],
    ["a plugin on a route that does not exist", (d) => { plugin(d, "key-auth").route = "bss-apis"; }, /^plugins\[\d+\]\.route: no route named "bss-apis"/],
    ["a plugin on a service that does not exist", (d) => { plugin(d, "request-size-limiting").service = "billing"; }, /^plugins\[\d+\]\.service: no service named "billing"/],
    ["a plugin on a consumer that does not exist", (d) => { plugin(d, "rate-limiting", "bss-api").consumer = "bss-kiosk"; }, /^plugins\[\d+\]\.consumer: no consumer named "bss-kiosk"/],
    ["an authentication plugin on a consumer", (d) => { plugin(d, "key-auth").consumer = "bss-mobile"; }, /^plugins\[\d+\]\.consumer: plugin "key-auth" cannot be configured on a consumer/],
    ["one plugin twice on one route", (d) => { d.plugins.push({ ...plugin(d, "basic-auth", "bss-jaeger"), instance_name: "second-basic-auth" }); }, /^plugins\[\d+\]: plugin "basic-auth" is already configured with the same route/],
    ["two plugins of one instance name", (d) => { plugin(d, "cors").instance_name = "global-prometheus"; }, /^plugins\[\d+\]\.instance_name: instance_name "global-prometheus" is already used/],
    ["a plugin protocol outside HTTP", (d) => { plugin(d, "cors").protocols = ["tcp"]; }, /^plugins\[\d+\]\.protocols\[0\]: expected one of: grpc, grpcs, http, https/],
    ["an unknown plugin config field", (d) => { plugin(d, "key-auth").config.key_names_in_query = ["apikey"]; }, /^plugins\[\d+\]\.config\.key_names_in_query: unknown field/],
    ["a rate limit as text", (d) => { plugin(d, "rate-limiting", "bss-api").config.minute = "1000"; }, /^plugins\[\d+\]\.config\.minute: expected a number/],
    ["a zero rate limit", (d) => { plugin(d, "rate-limiting", "bss-api").config.minute = 0; }, /^plugins\[\d+\]\.config\.minute: value must be greater than 0/],
    ["a rate limit with no period", (d) => { delete plugin(d, "rate-limiting", "bss-api").config.minute; }, /^plugins\[\d+\]\.config: at least one of these fields must be non-empty: 'config\.second'/],
    ["an hour limit below the minute limit", (d) => { plugin(d, "rate-limiting", "bss-api").config.hour = 10; }, /^plugins\[\d+\]\.config: the limit for hour\(10\) cannot be lower than the limit for minute\(1000\)/],
    ["the cluster policy, which DB-less Kong refuses", (d) => { plugin(d, "rate-limiting", "bss-api").config.policy = "cluster"; }, /^plugins\[\d+\]\.config\.policy: expected one of: local, redis, got "cluster"/],
    ["the redis policy without a Redis host", (d) => { delete plugin(d, "rate-limiting", "bss-api").config.redis.host; }, /^plugins\[\d+\]\.config\.redis: host and port are required when 'policy' is 'redis'/],
    ["limit_by header without a header name", (d) => { plugin(d, "rate-limiting", "bss-api").config.limit_by = "header"; }, /^plugins\[\d+\]\.config\.header_name: required field missing when 'limit_by' is 'header'/],
    ["a request size unit Kong does not know", (d) => { plugin(d, "request-size-limiting").config.size_unit = "gigabytes"; }, /^plugins\[\d+\]\.config\.size_unit: expected one of: megabytes, kilobytes, bytes/],
    ["a CORS origin with a path", (d) => { plugin(d, "cors").config.origins = ["https://app.example.com/login"]; }, /^plugins\[\d+\]\.config\.origins\[0\]: must be "\*" or an origin/],
    ["a CORS method Kong does not know", (d) => { plugin(d, "cors").config.methods.push("PURGE"); }, /^plugins\[\d+\]\.config\.methods\[7\]: expected one of: GET/],
    ["a response header without a value", (d) => { plugin(d, "response-transformer").config.add.headers.push("X-Frame-Options"); }, /^plugins\[\d+\]\.config\.add\.headers\[4\]: must be "Name:value"/],
    ["a response-transformer action Kong does not know", (d) => { plugin(d, "response-transformer").config.set = { headers: ["A:b"] }; }, /^plugins\[\d+\]\.config\.set: unknown field/],
    ["an ip-restriction entry that is not a CIDR", (d) => { plugin(d, "ip-restriction", "bss-grafana").config.allow = ["10.0.0.0/33"]; }, /^plugins\[\d+\]\.config\.allow\[0\]: must be an IPv4 address or CIDR block/],
    ["an ip-restriction with nothing to allow or deny", (d) => { plugin(d, "ip-restriction", "bss-grafana").config.allow = []; }, /^plugins\[\d+\]\.config: at least one of these fields must be non-empty: 'config\.allow', 'config\.deny'/],
    ["an http-log endpoint that is not a URL", (d) => { plugin(d, "http-log").config.http_endpoint = "log-collector:8080"; }, /^plugins\[\d+\]\.config\.http_endpoint: must be an http\(s\) URL/],
    ["an http-log method Kong does not send", (d) => { plugin(d, "http-log").config.method = "GET"; }, /^plugins\[\d+\]\.config\.method: expected one of: POST, PUT, PATCH/],
    ["a prometheus option as text", (d) => { plugin(d, "prometheus").config.latency_metrics = "yes"; }, /^plugins\[\d+\]\.config\.latency_metrics: expected a boolean/],
    ["key-auth without key names", (d) => { plugin(d, "key-auth").config.key_names = []; }, /^plugins\[\d+\]\.config\.key_names: length must be at least 1/],
    ["a tag with a comma", (d) => { d.routes[0].tags = ["bss,api"]; }, /^routes\[0\]\.tags\[0\]: must be printable ASCII except "," and "\/"/],
    ["a tag with a slash", (d) => { d.services[0].tags = ["bss/api"]; }, /^services\[0\]\.tags\[0\]: must be printable ASCII except "," and "\/"/],
];

describe.each(CASES)("rejects %s", (_what, mutate, expected) => {
    it("with exactly that problem", () => {
        const doc = valid();
        mutate(doc);
        const problems = validateKongConfig(doc);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(expected);
    });
});

it("reports every problem at once", () => {
    const doc = valid();
    doc._format_version = "1.1";
    doc.routes[0].paths = ["api"];
    doc.upstreams[0].algorithm = "random";
    expect(validateKongConfig(doc)).toHaveLength(3);
});

it("refuses a document that is not a map", () => {
    expect(validateKongConfig(["services"])).toEqual(["the declarative config must be a map, got array"]);
});
