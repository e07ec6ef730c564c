import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerEngineAvailable } from './docker.js';
import { freePort } from './postgres.js';

export interface TestKafka {
  brokers: string;
  source: 'KAFKA_BROKERS' | 'testcontainers' | 'local-jars';
  stop(): Promise<void>;
}

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const kafkaScript = join(repositoryRoot, 'deploy/kafka/kafka.sh');

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(
              `${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`,
            ),
          );
        else resolvePromise(stdout);
      },
    );
  });
}

/** kafka.sh's environment for a broker on free ports with its data in a new temporary folder. */
async function localBroker(
  prefix: string,
  removeDataOnStop: boolean,
): Promise<{ env: NodeJS.ProcessEnv; brokers: string; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const port = await freePort();
  const controllerPort = await freePort();
  return {
    env: {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_DATA_DIR: dataDir,
      KAFKA_REMOVE_DATA_ON_STOP: removeDataOnStop ? '1' : '0',
    },
    brokers: `127.0.0.1:${port}`,
    dataDir,
  };
}

/**
 * A real Kafka broker for a test run: KAFKA_BROKERS if given, else a Testcontainers container
 * where a Docker engine answers, else a single-node KRaft broker run from Apache Kafka's jars
 * (fetched from Maven Central by deploy/kafka/kafka.sh) on the machine's Java.
 * Throws with the reason when none can be had.
 */
export async function startTestKafka(): Promise<TestKafka> {
  const given = process.env['KAFKA_BROKERS'];
  if (given) return { brokers: given, source: 'KAFKA_BROKERS', stop: () => Promise.resolve() };

  if (await dockerEngineAvailable()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    return {
      brokers: `${container.getHost()}:${container.getMappedPort(9093)}`,
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }

  const { env, brokers } = await localBroker('rampart-kafka-', true);
  await run('bash', [kafkaScript, 'start'], env);
  return {
    brokers,
    source: 'local-jars',
    stop: async () => {
      await run('bash', [kafkaScript, 'stop'], env);
    },
  };
}

/** A broker of a test's own, which the test may take down and bring back (same port, same data). */
export interface RestartableKafka {
  brokers: string;
  /** Stops the broker (TERM, then KILL after 15 s) and keeps its log dir: nothing is lost. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and log dir; resolves once it accepts clients. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
}

/**
 * A single-node KRaft broker from Apache Kafka's jars (deploy/kafka/kafka.sh) for one test file,
 * apart from the run's shared broker: stopping the shared one would break every other suite. The
 * data dir is the test's, so a restart reuses the formatted log dir, its topics, offsets and
 * committed consumer groups, as a broker coming back after maintenance does.
 */
export async function startRestartableKafka(): Promise<RestartableKafka> {
  const { env: shared, brokers, dataDir } = await localBroker('rampart-kafka-restartable-', false);
  const env = {
    ...shared,
    // A test's broker is small: less heap than the shared one, fewer internal partitions.
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
    KAFKA_OFFSETS_PARTITIONS: '3',
    KAFKA_TXN_PARTITIONS: '1',
  };
  let running = false;
  const start = async () => {
    await run('bash', [kafkaScript, 'start'], env);
    running = true;
  };
  const stop = async () => {
    await run('bash', [kafkaScript, 'stop'], env);
    running = false;
  };
  await start().catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    brokers,
    start,
    stop,
    close: async () => {
      if (running) await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
