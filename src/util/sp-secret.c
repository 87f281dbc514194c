/* Placeholder: being written. */
#include "util/sp-secret.h"
