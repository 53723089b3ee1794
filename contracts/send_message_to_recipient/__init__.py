"""SendMessageToRecipient: care's questions and answers to the recipient of a certificate."""
