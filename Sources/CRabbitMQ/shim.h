#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H
/* librabbitmq 0.11 (Debian 12) has the flat header layout; <rabbitmq-c/amqp.h> exists only from 0.12. */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <string.h>
#include <sys/time.h>

/* amqp_login() is C-variadic, which Swift cannot call. */
static inline amqp_rpc_reply_t crmq_login_plain(amqp_connection_state_t state, const char *vhost, int channel_max,
                                                int frame_max, int heartbeat, const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

/* Publishes one JSON message; optional properties are NULL when absent. */
static inline int crmq_publish(amqp_connection_state_t state, amqp_channel_t channel, const char *exchange,
                               const char *routing_key, const void *body, size_t body_length,
                               const char *message_id, const char *correlation_id, const char *reply_to,
                               const char *type, const char *user_id, int persistent, uint64_t timestamp) {
    amqp_basic_properties_t properties;
    memset(&properties, 0, sizeof properties);
    properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
    properties.content_type = amqp_cstring_bytes("application/json");
    properties.delivery_mode = persistent ? 2 : 1;
    properties.timestamp = timestamp;
    if (message_id) { properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG; properties.message_id = amqp_cstring_bytes(message_id); }
    if (correlation_id) { properties._flags |= AMQP_BASIC_CORRELATION_ID_FLAG; properties.correlation_id = amqp_cstring_bytes(correlation_id); }
    if (reply_to) { properties._flags |= AMQP_BASIC_REPLY_TO_FLAG; properties.reply_to = amqp_cstring_bytes(reply_to); }
    if (type) { properties._flags |= AMQP_BASIC_TYPE_FLAG; properties.type = amqp_cstring_bytes(type); }
    /* RabbitMQ refuses a user_id other than the connection's own user: receivers may trust it. */
    if (user_id) { properties._flags |= AMQP_BASIC_USER_ID_FLAG; properties.user_id = amqp_cstring_bytes(user_id); }
    amqp_bytes_t payload;
    payload.len = body_length;
    payload.bytes = (void *)body;
    return amqp_basic_publish(state, channel, amqp_cstring_bytes(exchange), amqp_cstring_bytes(routing_key),
                              0, 0, &properties, payload);
}

/* Declares a queue; optional arguments are NULL / <= 0 when absent. An empty name lets the broker choose one. */
static inline amqp_queue_declare_ok_t *crmq_declare_queue(amqp_connection_state_t state, amqp_channel_t channel,
        const char *name, int durable, int exclusive, int auto_delete, const char *queue_type,
        int64_t delivery_limit, const char *dead_letter_exchange, const char *overflow, int64_t expires_ms) {
    amqp_table_entry_t entries[5];
    int count = 0;
    if (queue_type) {
        entries[count].key = amqp_cstring_bytes("x-queue-type");
        entries[count].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[count].value.value.bytes = amqp_cstring_bytes(queue_type);
        count++;
    }
    if (delivery_limit > 0) {
        entries[count].key = amqp_cstring_bytes("x-delivery-limit");
        entries[count].value.kind = AMQP_FIELD_KIND_I64;
        entries[count].value.value.i64 = delivery_limit;
        count++;
    }
    if (dead_letter_exchange) {
        entries[count].key = amqp_cstring_bytes("x-dead-letter-exchange");
        entries[count].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[count].value.value.bytes = amqp_cstring_bytes(dead_letter_exchange);
        count++;
    }
    if (overflow) {
        entries[count].key = amqp_cstring_bytes("x-overflow");
        entries[count].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[count].value.value.bytes = amqp_cstring_bytes(overflow);
        count++;
    }
    if (expires_ms > 0) {
        entries[count].key = amqp_cstring_bytes("x-expires");
        entries[count].value.kind = AMQP_FIELD_KIND_I64;
        entries[count].value.value.i64 = expires_ms;
        count++;
    }
    amqp_table_t arguments;
    arguments.num_entries = count;
    arguments.entries = entries;
    return amqp_queue_declare(state, channel, amqp_cstring_bytes(name), 0, durable, exclusive, auto_delete, arguments);
}

/* An integer header (e.g. x-delivery-count), or `fallback` when absent. */
static inline int64_t crmq_header_int(const amqp_basic_properties_t *properties, const char *key, int64_t fallback) {
    if (!(properties->_flags & AMQP_BASIC_HEADERS_FLAG)) return fallback;
    size_t key_length = strlen(key);
    for (int i = 0; i < properties->headers.num_entries; i++) {
        const amqp_table_entry_t *entry = &properties->headers.entries[i];
        if (entry->key.len != key_length || memcmp(entry->key.bytes, key, key_length) != 0) continue;
        switch (entry->value.kind) {
            case AMQP_FIELD_KIND_I8: return entry->value.value.i8;
            case AMQP_FIELD_KIND_U8: return entry->value.value.u8;
            case AMQP_FIELD_KIND_I16: return entry->value.value.i16;
            case AMQP_FIELD_KIND_U16: return entry->value.value.u16;
            case AMQP_FIELD_KIND_I32: return entry->value.value.i32;
            case AMQP_FIELD_KIND_U32: return entry->value.value.u32;
            case AMQP_FIELD_KIND_I64: return entry->value.value.i64;
            case AMQP_FIELD_KIND_U64: return (int64_t)entry->value.value.u64;
            default: return fallback;
        }
    }
    return fallback;
}

/* Waits up to `milliseconds` for a frame; AMQP_STATUS_TIMEOUT when none came (heartbeats are handled inside). */
static inline int crmq_wait_frame(amqp_connection_state_t state, amqp_frame_t *frame, long milliseconds) {
    struct timeval timeout;
    timeout.tv_sec = milliseconds / 1000;
    timeout.tv_usec = (milliseconds % 1000) * 1000;
    return amqp_simple_wait_frame_noblock(state, frame, &timeout);
}

/* Waits up to `milliseconds` for a delivery. */
static inline amqp_rpc_reply_t crmq_consume(amqp_connection_state_t state, amqp_envelope_t *envelope, long milliseconds) {
    struct timeval timeout;
    timeout.tv_sec = milliseconds / 1000;
    timeout.tv_usec = (milliseconds % 1000) * 1000;
    return amqp_consume_message(state, envelope, &timeout, 0);
}
/* String-taking wrappers: amqp_cstring_bytes() of a Swift temporary would dangle after the call. */
static inline void crmq_declare_exchange(amqp_connection_state_t state, amqp_channel_t channel, const char *name,
                                         const char *type, int durable) {
    amqp_exchange_declare(state, channel, amqp_cstring_bytes(name), amqp_cstring_bytes(type), 0, durable, 0, 0,
                          amqp_empty_table);
}

static inline void crmq_bind_queue(amqp_connection_state_t state, amqp_channel_t channel, const char *queue,
                                   const char *exchange, const char *routing_key) {
    amqp_queue_bind(state, channel, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(routing_key), amqp_empty_table);
}

static inline void crmq_delete_queue(amqp_connection_state_t state, amqp_channel_t channel, const char *queue) {
    amqp_queue_delete(state, channel, amqp_cstring_bytes(queue), 0, 0);
}

static inline void crmq_purge_queue(amqp_connection_state_t state, amqp_channel_t channel, const char *queue) {
    amqp_queue_purge(state, channel, amqp_cstring_bytes(queue));
}

static inline void crmq_start_consuming(amqp_connection_state_t state, amqp_channel_t channel, const char *queue) {
    amqp_basic_consume(state, channel, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
}
#endif
