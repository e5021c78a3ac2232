/*
 * topics.c - topic name rules (Kafka's Topic.validate) and internal topics.
 */
#include "broker/topics.h"

#include <errno.h>
#include <stdio.h>

int sl_topic_validate_name(struct sl_slice name, char *err, size_t errlen)
{
    const char *why = NULL;
    if (name.len == 0 || !name.p)
        why = "the empty string is not allowed";
    else if ((name.len == 1 && name.p[0] == '.') || (name.len == 2 && name.p[0] == '.' && name.p[1] == '.'))
        why = "'.' and '..' are not allowed";
    else if (name.len > SL_TOPIC_NAME_MAX)
        why = "it can't be longer than 249 characters";
    else
        for (size_t i = 0; i < name.len; i++) {
            uint8_t c = name.p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-')) {
                why = "it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
                break;
            }
        }
    if (!why)
        return 0;
    if (err)
        snprintf(err, errlen, "Topic name \"%.*s\" is illegal, %s", (int)(name.len > 300 ? 300 : name.len),
                 name.p ? (const char *)name.p : "", why);
    return -EINVAL;
}

bool sl_topic_is_internal(struct sl_slice name)
{
    return sl_slice_eq_cstr(name, "__consumer_offsets") || sl_slice_eq_cstr(name, "__transaction_state");
}

bool sl_topic_names_collide(struct sl_slice a, struct sl_slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        uint8_t x = a.p[i] == '.' ? '_' : a.p[i];
        uint8_t y = b.p[i] == '.' ? '_' : b.p[i];
        if (x != y)
            return false;
    }
    return true;
}
