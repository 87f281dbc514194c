/* The planner's output for `safepool plan` (interface.md): each operation
 * with its kind and exact argv. */
#include "image/sp-plan.h"

#include <json-glib/json-glib.h>

#include "util/sp-json.h"

char *
sp_plan_to_json(const SpPlan *p)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "volume");
    json_builder_add_string_value(b, p->volume);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, p->path);
    json_builder_set_member_name(b, "operations");
    json_builder_begin_array(b);
    for (guint i = 0; i < p->ops->len; i++) {
        const SpOperation *op = g_ptr_array_index(p->ops, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "op");
        json_builder_add_string_value(b, sp_op_kind_to_string(op->kind));
        /* In-process operations run no program: their argv is empty. */
        json_builder_set_member_name(b, "argv");
        json_builder_begin_array(b);
        for (char **a = op->argv; a && *a; a++)
            json_builder_add_string_value(b, *a);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, (gint64)op->size);
        if (op->kind != SP_OP_QEMU_IMG) {
            json_builder_set_member_name(b, "allocation");
            json_builder_add_int_value(b, (gint64)op->allocation);
        }
        if (op->reflink) {
            json_builder_set_member_name(b, "reflink");
            json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_set_member_name(b, "needs_secret");
        json_builder_add_boolean_value(b, op->needs_secret);
        if (op->nocow) {
            json_builder_set_member_name(b, "nocow");
            json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return sp_json_builder_to_text(b, NULL);
}
