export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.rampartTestServers;
  globalThis.rampartTestServers = undefined;
  await Promise.allSettled([servers?.kafka?.stop(), servers?.postgres.stop()]);
}
