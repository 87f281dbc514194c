/* JSON text from json-glib: the one way safepool turns what it built into
 * the text it prints or stores (plans, vTPM manifests, CLI output). */
#pragma once

#include <json-glib/json-glib.h>

/* @node as pretty-printed UTF-8 text (its length in @len if non-NULL). */
char *sp_json_to_text(JsonNode *node, gsize *len);

/* The value @b built, as sp_json_to_text. */
char *sp_json_builder_to_text(JsonBuilder *b, gsize *len);
