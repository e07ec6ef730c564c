import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time (user + system) of the processes that make up the benchmark, read from /proc: this
 * Node process (the load or the producer, relay and consumer), a service process the benchmark
 * started, the PostgreSQL server processes and the Kafka JVM. The difference of two samples over the wall time says where the two cores went.
 */
export interface CpuSample {
  at: number;
  /** Seconds of CPU per group. */
  seconds: Record<CpuGroup, number>;
  /** Seconds the whole machine was busy (all processes, all cores), from /proc/stat. */
  machineBusy: number;
}

export type CpuGroup = 'node' | 'service' | 'postgres' | 'kafka';

/** USER_HZ: the unit of the /proc tick counters; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

function groupOf(pid: string, comm: string, servicePid?: number): CpuGroup | undefined {
  if (Number(pid) === process.pid) return 'node';
  if (Number(pid) === servicePid) return 'service';
  if (comm === 'postgres') return 'postgres';
  if (comm === 'java') {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')
        ? 'kafka'
        : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Undefined where /proc is not available (not Linux); the report then leaves CPU out.
 * `servicePid`: a child process to count on its own as `service`.
 */
export function sampleCpu(servicePid?: number): CpuSample | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const seconds: Record<CpuGroup, number> = { node: 0, service: 0, postgres: 0, kafka: 0 };
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const group = groupOf(pid, comm, servicePid);
    if (!group) continue;
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of the full line (utime, stime) are 11 and 12 after "pid (comm)".
    seconds[group] += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    // PostgreSQL ends idle backends; their time moves to the postmaster's reaped-children
    // counters (cutime, cstime), which keep the group's total from going backwards.
    if (group === 'postgres') {
      seconds[group] += (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
    }
  }
  // "cpu user nice system idle iowait irq softirq steal guest guest_nice": guest time is already
  // counted in user, so only the first eight count; busy is all of them but idle and iowait.
  const cpu = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const machineBusy =
    (cpu.reduce((sum, value) => sum + value, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / TICKS_PER_SECOND;
  return { at: performance.now(), seconds, machineBusy };
}

/**
 * Average cores used per group between two samples. `other` is the rest of the machine's busy
 * time (kernel threads, short-lived processes, anything else running on the machine): near zero
 * in a clean run, and a sign that the figures are disturbed when it is not.
 */
export function coresUsed(
  from: CpuSample,
  to: CpuSample,
): Record<CpuGroup | 'other' | 'machine', number> {
  const wall = (to.at - from.at) / 1_000;
  const cores = (a: number, b: number) => (wall > 0 ? (b - a) / wall : 0);
  const node = cores(from.seconds.node, to.seconds.node);
  const service = cores(from.seconds.service, to.seconds.service);
  const postgres = cores(from.seconds.postgres, to.seconds.postgres);
  const kafka = cores(from.seconds.kafka, to.seconds.kafka);
  const machine = cores(from.machineBusy, to.machineBusy);
  const other = Math.max(0, machine - node - service - postgres - kafka);
  return { node, service, postgres, kafka, other, machine };
}
