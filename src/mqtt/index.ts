// MQTTClient, MQTTMessage, QoS.
export {};
