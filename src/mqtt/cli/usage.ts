/** The help texts of `mtaio mqtt`, `mtaio mqtt pub` and `mtaio mqtt sub`. */

const CONNECTION = `Connection:
  -h, --host <host>          broker host (default localhost); several brokers: repeat
                             -h or list them (-h a,b:1884,[::1]:1885), tried in order
                             until one accepts
  -p, --port <port>          broker port (default 1883; 8883 with TLS), for every -h
                             host that names none
  -L, --url <url>            mqtt://[user[:pass]@]host[:port]/topic, mqtts://…,
                             ws://host[:port][/path], wss://… (instead of -h/-p);
                             repeat for several brokers
  -V, --protocol-version <v> mqttv5 (default) or mqttv311
  -i, --id <id>              client id (default: MQTT 5 lets the broker choose)
  -I, --id-prefix <prefix>   client id = prefix + process id
  -u, --username <name>      user name
  -P, --pw <password>        password
  -k, --keepalive <seconds>  keep alive (default 60)
  -c, --disable-clean-session
                             resume the session of this client id (needs -i)
  -x, --session-expiry-interval <seconds>
                             MQTT 5 session expiry (-c alone: never expires)
  -D, --property <command> <identifier> <value>
                             an MQTT 5 property (see docs/mqtt.md), e.g.
                             -D publish content-type application/json
                             -D connect user-property name value
  --cafile <file>            trust this CA (turns TLS on)
  --cert <file> --key <file> client certificate and key (turns TLS on)
  --tls-use-os-certs         TLS with the system's CAs
  --insecure                 do not check the server's host name (chain still checked)
  --will-topic <topic>       Will message topic, with --will-payload <text>,
                             --will-qos <0|1|2>, --will-retain
  --quiet                    print no error messages
  --help                     this help

Exit codes: 0 ok, 1 usage error, 2 connection failed or lost, 3 refused by the broker
(credentials, not authorised), 4 bad topic, 5 timeout (-W, or the broker did not answer).
`;

export const MQTT_USAGE = `Usage: mtaio mqtt pub [options]   publish a message
       mtaio mqtt sub [options]   print the messages of topic filters

mtaio mqtt pub --help and mtaio mqtt sub --help list the options; they follow
mosquitto_pub and mosquitto_sub.
`;

export const PUB_USAGE = `Usage: mtaio mqtt pub -t <topic> (-m <message> | -f <file> | -s | -l | -n) [options]

Message:
  -t, --topic <topic>        topic to publish to
  -m, --message <text>       the payload
  -f, --file <file>          the payload is this file's bytes
  -s, --stdin-file           the payload is all of stdin
  -l, --stdin-line           one message per line of stdin (blank lines skipped)
  -n, --null-message         an empty payload
  -q, --qos <0|1|2>          QoS (default 0)
  -r, --retain               ask the broker to retain the message
  --repeat <count>           publish the message this many times
  --repeat-delay <seconds>   wait between repeats

${CONNECTION}`;

export const SUB_USAGE = `Usage: mtaio mqtt sub -t <filter> [-t <filter> …] [options]

Subscription and output:
  -t, --topic <filter>       topic filter to subscribe to (repeatable)
  -T, --filter-out <filter>  do not print messages whose topic matches (repeatable)
  -q, --qos <0|1|2>          subscription QoS (default 0)
  -v, --verbose              print "topic payload"
  -F, --format <format>      print with a format string: %t topic, %p payload, %q QoS,
                             %r retain, %m message id, %l length, %x hex payload,
                             %I ISO time, %U Unix time, %j / %J JSON, %C %E %F %R %D %P %S
                             MQTT 5 properties, @Y @m @d @H @M @S time, \\n \\t escapes
  -j, --json                 one JSON object per message (as -F %J)
  --pretty                   indent JSON output
  -N, --no-eol               no newline after each message
  -C, --count <n>            exit after printing n messages
  -W, --timeout <seconds>    exit (code 5) after this many seconds
  -R, --no-retained          do not print retained messages
  --retained-only            print retained messages only, exit at the first live one
  -E, --exit-after-subscribe exit once the subscriptions are acknowledged
  --retain-as-published      MQTT 5: keep the publisher's retain flag

${CONNECTION}`;
