// txn_produce.js - kafkajs idempotent and transactional producers: sends N
// idempotent messages (value idem-I), then one committed transaction (value
// commit-I) and one aborted transaction (value abort-I), each of N messages
// over partitions I % 2. Prints "ok". Usage: node txn_produce.js host:port topic N
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, nArg] = process.argv.slice(2);
if (!bootstrap || !topic || !nArg) {
    console.error('usage: node txn_produce.js host:port topic N');
    process.exit(2);
}
const n = parseInt(nArg, 10);
const kafka = new Kafka({
    clientId: 'sluice-it-txn',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
});

const msgs = (tag) => {
    const m = [];
    for (let i = 0; i < n; i++)
        m.push({ key: 'k' + i, value: tag + '-' + i, partition: i % 2 });
    return m;
};

(async () => {
    const idem = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await idem.connect();
    await idem.send({ topic, acks: -1, messages: msgs('idem') });
    await idem.disconnect();

    const tp = kafka.producer({ transactionalId: 'sluice-js-txn', idempotent: true, maxInFlightRequests: 1,
                                allowAutoTopicCreation: false });
    await tp.connect();
    let txn = await tp.transaction();
    await txn.send({ topic, messages: msgs('commit') });
    await txn.commit();
    txn = await tp.transaction();
    await txn.send({ topic, messages: msgs('abort') });
    await txn.abort();
    await tp.disconnect();
    console.log('ok');
})().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
