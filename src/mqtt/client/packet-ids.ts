/**
 * Packet Identifiers (MQTT 5 §2.2.1): one set for everything that needs one (QoS 1/2 PUBLISH,
 * SUBSCRIBE, UNSUBSCRIBE), so none is reused while its flow is open ([MQTT-2.2.1-3]). A flag
 * per identifier rather than a Set: taking and giving back an id happens twice per message.
 */
export class PacketIds {
  private next = 1;
  /** 1 at index `id` while the id is in use (index 0 is never used). */
  private readonly inUse = new Uint8Array(65536);
  private count = 0;

  /** Identifiers in use. */
  get size(): number {
    return this.count;
  }

  /** A free identifier (1…65535), or 0 when all are in use. */
  allocate(): number {
    if (this.count >= 65535) return 0;
    const inUse = this.inUse;
    let id = this.next;
    while (inUse[id] === 1) id = id === 65535 ? 1 : id + 1;
    inUse[id] = 1;
    this.count++;
    this.next = id === 65535 ? 1 : id + 1;
    return id;
  }

  reserve(id: number): void {
    if (!(id >= 1 && id <= 65535) || this.inUse[id] === 1) return;
    this.inUse[id] = 1;
    this.count++;
  }

  release(id: number): void {
    if (!(id >= 1 && id <= 65535) || this.inUse[id] !== 1) return;
    this.inUse[id] = 0;
    this.count--;
  }
}
