/** Two projects: `unit` needs nothing but Node; `integration` runs real Kafka and Redis on this machine. */
const tsJest = { "^.+\\.ts$": "ts-jest" };

module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: ["<rootDir>/tests/**/*.test.ts"],
      testPathIgnorePatterns: ["\\.integration\\.test\\.ts$"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: ["<rootDir>/tests/**/*.integration.test.ts"],
    },
  ],
};
