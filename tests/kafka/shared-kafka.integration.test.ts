/**
 * One dev-stack Kafka (ZooKeeper and three brokers applied to the test cluster by tests/kafka/cluster-harness.ts)
 * for the four suites that need nothing else: apart, each paid its own cluster and Kafka start and stop (about 70 s
 * of a fresh CI run's budget). Each suite leaves the Kafka as it found it (`RunningKafkaCluster.reset`: every broker
 * Ready, no topic of its own left), so their order does not matter; the external gate goes first only so that its
 * first case still sees brokers that have just turned Ready.
 */
import { RunningKafkaCluster, startKafkaCluster } from "./cluster-harness";
import { kafkaClusterSuite } from "./kafka-cluster.suite";
import { externalGateSuite } from "../topics/external-gate.suite";
import { topicsSuite } from "../topics/topics.suite";
import { verifyKafkaSuite } from "../verify/kafka.suite";

jest.setTimeout(600_000);

let kafka: RunningKafkaCluster;

beforeAll(async () => {
    kafka = await startKafkaCluster();
    console.log(`3 brokers + ZooKeeper Ready after ${kafka.startupMs} ms`);
}, 3_000_000);

afterAll(async () => {
    await kafka?.stop();
}, 300_000);

describe("the external gate (components/topics/external-gate.ts)", () => externalGateSuite(() => kafka));
describe("Kafka brokers and ZooKeeper", () => kafkaClusterSuite(() => kafka));
describe("the topic catalog", () => topicsSuite(() => kafka));
describe("npm run verify on real Kafka", () => verifyKafkaSuite(() => kafka));
