/*
 * ctl_configs.h - controller operations on dynamic configs (AlterConfigs,
 * IncrementalAlterConfigs) for TOPIC and BROKER resources: Kafka's checks
 * and error codes, then one ConfigRecord per changed key (a null value
 * deletes), written as one change per resource.
 */
#ifndef SL_META_CTL_CONFIGS_H
#define SL_META_CTL_CONFIGS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/slice.h"

struct sl_controller;

struct sl_cfg_alter {
    int8_t op;              /* SL_CFG_OP_* (legacy AlterConfigs: SET) */
    struct sl_slice key;
    struct sl_slice value;  /* p == NULL: null */
};

struct sl_cfg_result {
    int16_t error;          /* Kafka error code */
    char message[320];      /* ErrorMessage when error != 0 */
};

/* Alters one resource. incremental false is the legacy AlterConfigs: the
 * given keys replace every dynamic config of the resource. Controller
 * thread. */
void sl_ctl_alter_configs(struct sl_controller *ctl, int8_t resource_type, struct sl_slice resource_name,
                          const struct sl_cfg_alter *ops, int32_t n, bool incremental, bool validate_only,
                          struct sl_cfg_result *res);

#endif
