// Message decoding for MCAP channels (data/, bottom layer): ROS 2 CDR messages from the `ros2msg`
// schema text in the file (@foxglove/rosmsg + @foxglove/rosmsg2-serialization) and JSON messages
// (Foxglove `jsonschema` schemas). Anything else is an UnknownEncodingError naming the channel.

import { parse as parseRosMsg } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { MessageDecodeError, UnknownEncodingError } from '../errors.ts';
import type { LogMessage, McapChannelInfo, McapLog, McapSchemaInfo } from './reader.ts';

/** Decodes one message payload of a channel into a plain object. */
export type MessageDecoder = (data: Uint8Array) => unknown;

/** The (message encoding, schema encoding) pairs Impulse decodes. */
export const SUPPORTED_ENCODINGS = ['cdr + ros2msg', 'json + jsonschema', 'json (schemaless)'] as const;

/** Whether a channel's messages can be decoded. */
export function canDecode(channel: McapChannelInfo, schema: McapSchemaInfo | undefined): boolean {
  if (channel.messageEncoding === 'cdr') return schema?.encoding === 'ros2msg';
  if (channel.messageEncoding === 'json') return !schema || schema.encoding === 'jsonschema' || schema.encoding === '';
  return false;
}

/** Builds a decoder for a channel; throws {@link UnknownEncodingError} for encodings Impulse cannot decode. */
export function createDecoder(channel: McapChannelInfo, schema: McapSchemaInfo | undefined, file?: string): MessageDecoder {
  const where = `channel ${channel.id} ('${channel.topic}')`;
  if (channel.messageEncoding === 'cdr' && schema?.encoding === 'ros2msg') {
    let reader: MessageReader;
    try {
      reader = new MessageReader(parseRosMsg(new TextDecoder().decode(schema.data), { ros2: true }));
    } catch (e) {
      throw new UnknownEncodingError(`${where}: cannot parse ros2msg schema '${schema.name}': ${(e as Error).message}`, { file });
    }
    return (data) => reader.readMessage(data);
  }
  if (channel.messageEncoding === 'json' && (!schema || schema.encoding === 'jsonschema' || schema.encoding === '')) {
    const td = new TextDecoder();
    return (data) => JSON.parse(td.decode(data)) as unknown;
  }
  const se = schema ? `schema encoding '${schema.encoding}'` : 'no schema';
  throw new UnknownEncodingError(
    `${where}: message encoding '${channel.messageEncoding}' with ${se} is not supported (supported: ${SUPPORTED_ENCODINGS.join(', ')})`,
    { file },
  );
}

/** Caches one decoder per channel of a log and wraps decode failures in {@link MessageDecodeError}. */
export class DecoderCache {
  private decoders = new Map<number, MessageDecoder>();
  constructor(private readonly log: McapLog) {}

  /** Decodes a message of the log. */
  decode(m: LogMessage): unknown {
    let d = this.decoders.get(m.channelId);
    if (!d) {
      const ch = this.log.channels.get(m.channelId)!;
      d = createDecoder(ch, this.log.schemaOf(ch), this.log.path);
      this.decoders.set(m.channelId, d);
    }
    try {
      return d(m.data);
    } catch (e) {
      throw new MessageDecodeError(`cannot decode message on '${m.topic}' (${m.schemaName}) at log time ${m.logTime}: ${(e as Error).message}`, {
        file: this.log.path,
        offset: m.blockOffset,
      });
    }
  }
}
