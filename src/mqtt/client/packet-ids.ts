/**
 * Packet Identifiers (MQTT 5 §2.2.1): one set for everything that needs one (QoS 1/2 PUBLISH,
 * SUBSCRIBE, UNSUBSCRIBE), so none is reused while its flow is open ([MQTT-2.2.1-3]).
 */
export class PacketIds {
  private next = 1;
  readonly used = new Set<number>();

  /** A free identifier (1…65535), or 0 when all are in use. */
  allocate(): number {
    if (this.used.size >= 65535) return 0;
    for (;;) {
      const id = this.next;
      this.next = id === 65535 ? 1 : id + 1;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  reserve(id: number): void {
    this.used.add(id);
  }

  release(id: number): void {
    this.used.delete(id);
  }
}
