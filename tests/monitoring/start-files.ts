/** The files and env start.sh of a broker reads, written into a scratch folder (dev settings, pod kafka-0). */
import * as fs from "fs";
import * as path from "path";
import { renderServerProperties } from "../../components/kafka/config";
import { renderLog4jProperties } from "../../components/zookeeper/config";
import { loadSettings } from "../../settings";

export function renderKafkaConfigFiles(dir: string): Record<string, string> {
    const settings = loadSettings({ "bss:environment": "dev" }, "dev");
    fs.mkdirSync(path.join(dir, "config"), { recursive: true });
    fs.mkdirSync(path.join(dir, "runtime"), { recursive: true });
    fs.writeFileSync(path.join(dir, "config", "server.properties"), renderServerProperties(settings.kafka, "zk:2181/bss-kafka"));
    fs.writeFileSync(path.join(dir, "config", "log4j.properties"), renderLog4jProperties());
    return {
        KAFKA_CONFIG_DIR: path.join(dir, "config"),
        KAFKA_RUNTIME_DIR: path.join(dir, "runtime"),
        POD_NAME: "kafka-0",
        POD_NAMESPACE: "bss",
        KAFKA_HEADLESS_SERVICE: "kafka-headless",
        KAFKA_EXTERNAL_HOST: settings.kafka.externalHost,
        KAFKA_EXTERNAL_PORT_BASE: String(settings.kafka.externalPortBase),
        MEMORY_LIMIT_MB: "1024",
    };
}
