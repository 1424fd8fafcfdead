// Embeds the compiled pktgen.bpf.o (path from CMake) so lvs-pktgen is one self-contained binary.
#ifndef LVS_PKTGEN_BPF_OBJ
#error "LVS_PKTGEN_BPF_OBJ must name the compiled BPF object"
#endif
__asm__(
    ".pushsection .rodata\n"
    ".balign 8\n"
    ".global lvs_pktgen_bpf_obj\n"
    "lvs_pktgen_bpf_obj:\n"
    ".incbin \"" LVS_PKTGEN_BPF_OBJ
    "\"\n"
    ".global lvs_pktgen_bpf_obj_end\n"
    "lvs_pktgen_bpf_obj_end:\n"
    ".popsection\n");
