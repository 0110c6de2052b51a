// A client of Katib's DBManager, for Sibyl serving as Katib's early-stopping service beside
// Katib's own DB manager: GetEarlyStoppingRules names it (`db_manager_address`), and the logs of
// trials Sibyl's store does not hold are read from there, as Katib's medianstop reads them.
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from './protos.js';

/** Addresses kept connected (Katib names one; a bound keeps a confused caller from piling up channels). */
const MAX_CLIENTS = 4;

export class KatibDbClients {
  private readonly clients = new Map<string, grpc.Client>();

  /** The objective values of a trial's observation log, in the DB manager's (time) order; `deadline` in ms since the epoch. */
  async metricValues(address: string, trialName: string, metricName: string, deadline: number): Promise<number[]> {
    const client = this.clientFor(address) as grpc.Client & { getObservationLog: Function };
    const reply = await new Promise<{ observationLog?: { metricLogs?: { metric?: { name?: string; value?: string } }[] } }>((resolve, reject) => {
      client.getObservationLog({ trialName, metricName }, { deadline }, (err: Error | null, res: any) => (err ? reject(err) : resolve(res ?? {})));
    });
    return (reply.observationLog?.metricLogs ?? [])
      .filter((l) => (l.metric?.name ?? metricName) === metricName)
      .map((l) => Number(l.metric?.value))
      .filter(Number.isFinite);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private clientFor(address: string): grpc.Client {
    let client = this.clients.get(address);
    if (!client) {
      if (this.clients.size >= MAX_CLIENTS) {
        const [oldest, c] = this.clients.entries().next().value!;
        c.close();
        this.clients.delete(oldest);
      }
      // Katib's services talk plaintext gRPC inside the cluster.
      client = new (loadProtos().katib.DBManager)(address, grpc.credentials.createInsecure());
      this.clients.set(address, client);
    }
    return client;
  }
}
