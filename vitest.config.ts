import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Tests drive the hub by hand (runDurableObjectAlarm / RPC) with a fetch stub as upstream;
              // a long interval keeps wall-clock alarms out of the way.
              bindings: {
                PRICE_SOURCES: "coinbase,kraken,bitstamp",
                POLL_INTERVAL_MS: "3600000",
                SOURCE_TIMEOUT_MS: "2000",
                COINBASE_API_URL: "http://coinbase.test",
                KRAKEN_API_URL: "http://kraken.test",
                BITSTAMP_API_URL: "http://bitstamp.test",
                COINDESK_API_URL: "http://coindesk.test",
                // Small shards, so that any test with more than 16 clients runs through a tree that splits.
                FANOUT_CHUNK: "16",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          setupFiles: ["test/support/setup.ts"],
          exclude: ["test/e2e/**", "test/cli/**"],
        },
      },
      {
        // The terminal client runs on Node (node:util parseArgs, files): so do its tests.
        test: {
          name: "node",
          include: ["test/cli/**/*.test.ts"],
          environment: "node",
        },
      },
    ],
  },
});
