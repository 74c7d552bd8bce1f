// placeholder: the CLI issue wires the verbs here
console.log("nfn: CLI not wired yet");
