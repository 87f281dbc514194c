/* JSON text from json-glib (see sp-json.h). */
#include "util/sp-json.h"

char *
sp_json_to_text(JsonNode *node, gsize *len)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    return json_generator_to_data(gen, len);
}

char *
sp_json_builder_to_text(JsonBuilder *b, gsize *len)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    return sp_json_to_text(root, len);
}
