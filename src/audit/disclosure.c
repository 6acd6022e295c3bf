/* placeholder: being written */
typedef int kortisto_placeholder_disclosure;
