"""The widgets of hadrosaur-tui."""
