// describe_cluster.js - kafkajs admin.describeCluster() against one bootstrap
// address; prints the result as one JSON line. Usage: node describe_cluster.js host:port
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const bootstrap = process.argv[2];
if (!bootstrap) {
    console.error('usage: node describe_cluster.js host:port');
    process.exit(2);
}
const kafka = new Kafka({
    clientId: 'sluice-it',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 10000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
});

(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
        const cluster = await admin.describeCluster();
        console.log(JSON.stringify(cluster));
    } finally {
        await admin.disconnect();
    }
})().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
