/* Placeholder: being written. */
#include "conf/sp-seclabel.h"
