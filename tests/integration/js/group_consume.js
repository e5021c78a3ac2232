// group_consume.js - a kafkajs consumer in a group: reads until N messages
// arrived (or 60 s passed), commits what it read, disconnects and prints the
// messages as one JSON line [{partition, offset, key, value}]. Run it twice with
// the same group: the second run starts where the first one committed.
// Usage: node group_consume.js host:port topic group N
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, groupId, nArg] = process.argv.slice(2);
if (!bootstrap || !topic || !groupId || !nArg) {
    console.error('usage: node group_consume.js host:port topic group N');
    process.exit(2);
}
const n = parseInt(nArg, 10);
const kafka = new Kafka({
    clientId: 'sluice-it-group',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
});

(async () => {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, rebalanceTimeout: 10000,
                                      heartbeatInterval: 1000, maxWaitTimeInMs: 300 });
    await consumer.connect();
    const got = [];
    let done;
    const finished = new Promise((resolve) => { done = resolve; });
    const timer = setTimeout(() => done('timeout'), 60000);
    try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
                if (got.length >= n) return;
                got.push({ partition, offset: message.offset, key: message.key && message.key.toString(),
                           value: message.value && message.value.toString() });
                await consumer.commitOffsets([{ topic, partition,
                                                offset: (BigInt(message.offset) + 1n).toString() }]);
                if (got.length >= n) done('ok');
            },
        });
        const how = await finished;
        if (how !== 'ok') throw new Error('only ' + got.length + ' of ' + n + ' messages within 60 s');
        console.log(JSON.stringify(got));
    } finally {
        clearTimeout(timer);
        await consumer.disconnect();
    }
})().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
