// admin_ops.js - kafkajs admin operations for test_configs.py; prints one JSON
// line with the result, or the error's type, message and Kafka error name.
// Usage: node admin_ops.js host:port '<json op>'
//   {"op": "deleteTopicRecords", "topic": "t", "partitions": [{"partition": 0, "offset": "5"}]}
//   {"op": "fetchTopicOffsets", "topic": "t"}
//   {"op": "describeConfigs", "resources": [{"type": 2, "name": "t"}], "includeSynonyms": true}
//   {"op": "alterConfigs", "resources": [{"type": 2, "name": "t", "configEntries": [...]}]}
//   {"op": "createPartitions", "topicPartitions": [{"topic": "t", "count": 3}]}
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, opText] = process.argv.slice(2);
if (!bootstrap || !opText) {
    console.error("usage: node admin_ops.js host:port '<json op>'");
    process.exit(2);
}
const op = JSON.parse(opText);
const kafka = new Kafka({
    clientId: 'sluice-it',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 10000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
});

(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
        const { op: name, ...args } = op;
        if (args.topic) {
            await admin.fetchTopicMetadata({ topics: [args.topic] });
        }
        // fetchTopicOffsets takes the topic name itself
        const result = await admin[name](name === 'fetchTopicOffsets' ? args.topic : args);
        console.log(JSON.stringify({ ok: true, result: result === undefined ? null : result }));
    } catch (e) {
        const errs = [];
        const walk = (x) => {
            if (!x) return;
            if (x.type) errs.push(x.type);
            (x.partitions || []).forEach((p) => walk(p.error));
            walk(x.cause);
        };
        walk(e);
        console.log(JSON.stringify({ ok: false, name: e.name, message: e.message, types: errs }));
    } finally {
        await admin.disconnect();
    }
})().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
